"""The generator as plain functions: names, schema types, models, operations, paths, drift.

Most tests run on a small spec in the XAPI's shape (``synthetic_spec.py``), so each case is
visible; the last ones check facts of the real spec.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from py3cx.odata import Typed, action_path, function_path, key_path
from py3cx.xapi._resource import time_span
from xapi_codegen.models_writer import ModelsWriter, is_secret_name
from xapi_codegen.naming import enum_member_name, field_attribute, python_identifier, snake_case
from xapi_codegen.operations import Operation, OperationReader
from xapi_codegen.resources_writer import path_expression, wrap_line
from xapi_codegen.spec_drift import compare
from xapi_codegen.spec_loader import LoadedSpec, parse_spec_text

from . import synthetic_spec

CURRENT = parse_spec_text(synthetic_spec.CURRENT)
LEGACY = parse_spec_text(synthetic_spec.LEGACY)


def operations_of(document: dict[str, Any]) -> dict[str, Operation]:
    return {op.operation_id: op for r in OperationReader(document).resources() for op in r.operations}


def import_package(tmp_path: Path, modules: dict[str, str], package: str) -> SimpleNamespace:
    """Write generated modules as a real package and import every class they define (pydantic
    resolves forward references through each class's module)."""
    top, sub = package.split(".")
    (tmp_path / top / sub).mkdir(parents=True)
    (tmp_path / top / "__init__.py").write_text("", encoding="utf-8")
    for name, text in modules.items():
        (tmp_path / top / sub / f"{name}.py").write_text(text, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        classes: dict[str, Any] = {}
        for name in modules:
            if name != "__init__":
                module = importlib.import_module(f"{package}.{name}")
                classes.update({item: getattr(module, item) for item in module.__all__})
    finally:
        sys.path.remove(str(tmp_path))
    return SimpleNamespace(**classes)


@pytest.fixture
def models(tmp_path: Path) -> SimpleNamespace:
    package = f"synthetic_{uuid.uuid4().hex}.schemas"
    writer = ModelsWriter(CURRENT["components"]["schemas"])
    return import_package(tmp_path, writer.write_all(package, "0" * 64, "a test spec"), package)


# -- reading the YAML -------------------------------------------------------------------------


def test_yaml_no_stays_the_enum_member_no_and_not_false() -> None:
    assert CURRENT["components"]["schemas"]["Pbx.AuthenticationType"]["enum"] == [
        "No",
        "Basic",
        "3CX",
        "None",
    ]


def test_yaml_dates_stay_text() -> None:
    assert parse_spec_text("example: 2025-03-01")["example"] == "2025-03-01"


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ReportCallLogData", "report_call_log_data"),
        ("AISettings", "ai_settings"),
        ("CDRSettings", "cdr_settings"),
        ("Microsoft365Integration", "microsoft365_integration"),
        ("GetM365Users", "get_m365_users"),
        ("OAuthClients", "oauth_clients"),
        ("periodFrom", "period_from"),
        ("call_id", "call_id"),
    ],
)
def test_snake_case_keeps_acronyms_and_digits_with_their_word(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_python_names_never_are_keywords() -> None:
    assert python_identifier("from") == "from_"
    assert python_identifier("class") == "class_"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("WARNINGS.XAPI.NOT_FOUND", "WARNINGS_XAPI_NOT_FOUND"),
        ("3CX", "_3CX"),
        ("None", "None_"),
        ("name", "name_"),
    ],
)
def test_enum_member_names_are_identifiers(value: str, expected: str) -> None:
    assert enum_member_name(value) == expected


def test_wire_names_that_cannot_be_attributes_get_one_and_others_are_kept() -> None:
    assert field_attribute("@odata.count") == "odata_count"
    assert field_attribute("json") == "json_"
    assert field_attribute("FirstName") is None
    assert field_attribute("actionDnDn") is None


def test_secret_names_are_passwords_keys_and_pins_but_not_auth_ids() -> None:
    assert all(is_secret_name(n) for n in ("AuthPassword", "ClientSecret", "VMPIN", "LicenseKey", "Token"))
    assert not any(is_secret_name(n) for n in ("AuthID", "FirstName", "TokenEndpoint", "PinProtectTimeout"))


# -- models -----------------------------------------------------------------------------------


def test_model_keeps_wire_names_as_fields(models: SimpleNamespace) -> None:
    widget = models.Widget.model_validate({"Id": 7, "Number": "100", "Name": "W"})
    assert (widget.Id, widget.Number, widget.Name) == (7, "100", "W")


def test_unknown_enum_member_is_kept_and_serialised_back(models: SimpleNamespace) -> None:
    widget = models.Widget.model_validate({"Kind": "Kerberos"})
    assert widget.Kind == "Kerberos"
    assert not widget.Kind.is_known
    assert widget.to_wire() == {"Kind": "Kerberos"}


def test_enum_member_no_from_yaml_is_a_string_member(models: SimpleNamespace) -> None:
    assert models.AuthenticationType.No.value == "No"
    assert models.AuthenticationType("None") is models.AuthenticationType.None_
    assert models.AuthenticationType("3CX") is models.AuthenticationType._3CX


def test_nullable_properties_accept_null_and_missing_ones_are_none(models: SimpleNamespace) -> None:
    widget = models.Widget.model_validate({"Name": None})
    assert widget.Name is None and widget.RingTime is None and widget.Parts is None


def test_unknown_properties_are_kept(models: SimpleNamespace) -> None:
    widget = models.Widget.model_validate({"Id": 1, "AddedIn2030": [1, 2]})
    assert widget.model_extra == {"AddedIn2030": [1, 2]}
    assert widget.to_wire() == {"Id": 1, "AddedIn2030": [1, 2]}


def test_duration_reads_iso_8601_and_is_written_back_as_iso_8601(models: SimpleNamespace) -> None:
    widget = models.Widget.model_validate({"RingTime": "PT1M16.46S"})
    assert widget.RingTime == timedelta(minutes=1, seconds=16.46)
    assert widget.to_wire() == {"RingTime": "PT1M16.46S"}
    assert models.Widget.model_validate({"RingTime": "-P1DT2H"}).RingTime == -timedelta(days=1, hours=2)


def test_malformed_duration_is_a_validation_error(models: SimpleNamespace) -> None:
    with pytest.raises(ValidationError):
        models.Widget.model_validate({"RingTime": "01:16"})


def test_date_time_is_aware_and_written_in_utc_with_z(models: SimpleNamespace) -> None:
    widget = models.Widget.model_validate({"CreatedAt": "2025-03-13T23:00:00.1234567+01:00"})
    assert widget.CreatedAt == datetime(2025, 3, 13, 22, 0, 0, 123456, tzinfo=timezone.utc)
    assert widget.to_wire() == {"CreatedAt": "2025-03-13T22:00:00.123456Z"}


def test_date_time_without_zone_is_read_as_utc(models: SimpleNamespace) -> None:
    assert models.Widget.model_validate({"CreatedAt": "2025-03-13T23:00:00"}).CreatedAt.tzinfo == timezone.utc


def test_subclass_has_the_base_properties(models: SimpleNamespace) -> None:
    assert issubclass(models.Widget, models.Base)
    assert {"Id", "Number", "Name"} <= set(models.Widget.model_fields)


def test_field_named_like_its_own_type_validates_that_type(models: SimpleNamespace) -> None:
    widget = models.Widget.model_validate({"License": {"Key": "abc", "MaxSimCalls": 8}})
    assert isinstance(widget.License, models.License)
    assert widget.License.MaxSimCalls == 8


def test_models_that_refer_to_each_other_validate_both_ways(models: SimpleNamespace) -> None:
    widget = models.Widget.model_validate({"Parts": [{"Id": 1, "Widget": {"Id": 2, "Parts": []}}]})
    assert widget.Parts[0].Widget.Id == 2


def test_a_property_whose_type_changed_between_builds_accepts_both(tmp_path: Path) -> None:
    package = f"synthetic_{uuid.uuid4().hex}.schemas"
    writer = ModelsWriter(CURRENT["components"]["schemas"], LEGACY["components"]["schemas"])
    both = import_package(tmp_path, writer.write_all(package, "0" * 64, "a test spec"), package)
    assert both.Widget.model_validate({"License": "****"}).License == "****"
    assert isinstance(both.Widget.model_validate({"License": {"Key": "k"}}).License, both.License)
    # Unchanged properties keep their one type.
    with pytest.raises(ValidationError):
        both.Widget.model_validate({"Parts": "not a list"})


def test_without_the_older_spec_a_changed_property_takes_only_the_new_type(models: SimpleNamespace) -> None:
    with pytest.raises(ValidationError):
        models.Widget.model_validate({"License": "****"})


def test_non_identifier_wire_name_is_aliased_and_both_forms_are_accepted(models: SimpleNamespace) -> None:
    page = models.WidgetCollectionResponse.model_validate({"@odata.count": 3, "value": [{"Id": 1}]})
    assert page.odata_count == 3
    assert models.WidgetCollectionResponse(odata_count=4).to_wire() == {"@odata.count": 4}


def test_patch_body_holds_only_the_fields_that_were_set(models: SimpleNamespace) -> None:
    assert models.Widget(Name="x").to_wire() == {"Name": "x"}
    assert models.Widget(Name=None).to_wire() == {"Name": None}
    assert models.Widget().to_wire() == {}


def test_secrets_stay_out_of_the_repr(models: SimpleNamespace) -> None:
    widget = models.Widget(Id=1, AuthPassword="hunter2", AllowChangePassword=True)
    assert "hunter2" not in repr(widget) and "hunter2" not in str(widget)
    assert "AllowChangePassword=True" in repr(widget)
    assert widget.AuthPassword == "hunter2"


def test_repr_shows_only_properties_that_hold_something(models: SimpleNamespace) -> None:
    assert repr(models.Widget(Id=1, Name="W")) == "Widget(Id=1, Name='W')"


# -- operations and paths ---------------------------------------------------------------------


def test_operations_get_methods_named_by_the_shape_of_their_path() -> None:
    names = {op_id: (op.method_name, op.kind, op.result.kind) for op_id, op in operations_of(CURRENT).items()}
    assert names == {
        "ListWidget": ("list", "list", "pager"),
        "CreateWidget": ("create", "create", "model"),
        "GetWidget": ("get", "get", "model"),
        "UpdateWidget": ("update", "update", "none"),
        "DeleteWidget": ("delete", "delete", "none"),
        "GetWidgetByNumber": ("get_by_number", "get_by_key", "model"),
        "ListParts": ("list_parts", "navigation", "pager"),
        "GetWidgetReport": ("get_widget_report", "function", "pager"),
        "DownloadWidgetReport": ("download_widget_report", "function", "download"),
        "HasParts": ("has_parts", "function", "value"),
        "Ring": ("ring", "action", "none"),
        "GetGadgets": ("get", "get", "model"),
        "PurgeGadgets": ("purge_gadgets", "action", "none"),
    }


def test_function_arguments_are_typed_from_the_spec_and_keep_spec_defaults() -> None:
    report = operations_of(CURRENT)["GetWidgetReport"]
    assert [(p.python, p.annotation, p.edm_type, p.default) for p in report.function_params] == [
        ("period_from", "datetime", "Edm.DateTimeOffset", None),
        ("queue_dns", "str | None", "Edm.String", None),
        ("hide_internal", "bool", "Edm.Boolean", "False"),
    ]


def test_keys_are_never_optional_even_when_the_spec_says_nullable() -> None:
    by_number = operations_of(CURRENT)["GetWidgetByNumber"]
    assert [(p.python, p.annotation) for p in by_number.key_params] == [("number", "str")]


def test_action_parameters_become_a_typed_body() -> None:
    ring = operations_of(CURRENT)["Ring"]
    assert [(f.wire, f.python, f.annotation, f.optional) for f in ring.body_fields] == [
        ("destination", "destination", "str", False),
        ("dn", "dn", "str", True),
        ("testCall", "test_call", "bool", True),
    ]


def evaluate_path(op: Operation, **values: Any) -> str:
    expression = path_expression(op.segments, op.http_method, op.kind)
    scope = {"Typed": Typed, "key_path": key_path, "function_path": function_path, "action_path": action_path}
    return str(eval(expression, scope, values))


def test_paths_encode_keys_and_arguments_through_the_literal_encoder() -> None:
    ops = operations_of(CURRENT)
    assert evaluate_path(ops["GetWidget"], id=42) == "Widgets(42)"
    assert evaluate_path(ops["GetWidgetByNumber"], number="O'1") == "Widgets(Number='O''1')"
    assert evaluate_path(ops["ListParts"], id=3) == "Widgets(3)/Parts"
    assert evaluate_path(ops["HasParts"], id=3) == "Widgets(3)/Pbx.HasParts()"
    assert evaluate_path(ops["Ring"]) == "Widgets/Pbx.Ring"
    assert evaluate_path(ops["PurgeGadgets"]) == "PurgeGadgets"
    start = datetime(2025, 3, 13, 23, 0, tzinfo=timezone.utc)
    assert evaluate_path(
        ops["GetWidgetReport"], period_from=start, queue_dns="0336 0337", hide_internal=True
    ) == (
        "Widgets/Pbx.GetWidgetReport(periodFrom=2025-03-13T23:00:00.000Z,queueDns='0336%200337',hideInternal=true)"
    )


def test_a_key_typed_int_refuses_text_that_is_not_a_number() -> None:
    with pytest.raises(TypeError):
        evaluate_path(operations_of(CURRENT)["GetWidget"], id="forty-two")


def test_long_generated_calls_are_wrapped_one_argument_per_line() -> None:
    line = "        return f(" + ", ".join(f"argument_{n}=value" for n in range(12)) + ")"
    wrapped = wrap_line(line)
    assert wrapped.splitlines()[0] == "        return f("
    assert all(len(part) <= 110 for part in wrapped.splitlines())
    assert wrapped.replace("\n", "").replace(" ", "").replace(",)", ")") == line.replace(" ", "")


# -- drift between builds ---------------------------------------------------------------------


def test_alternate_key_matches_the_old_get_by_number_function_of_the_same_set() -> None:
    drift = compare(CURRENT, LEGACY)
    legacy = drift.changed["GetWidgetByNumber"]
    assert legacy.operation.path == "/Widgets/Pbx.GetByNumber(number={number})"
    assert legacy.arguments == {"number": "number"}


def test_renamed_argument_is_matched_by_position() -> None:
    assert compare(CURRENT, LEGACY).changed["GetWidgetReport"].arguments == {
        "startDt": "period_from",
        "queueDns": "queue_dns",
        "hideInternal": "hide_internal",
    }


def test_operations_the_old_build_lacks_are_listed_as_added() -> None:
    assert compare(CURRENT, LEGACY).added == ["GetGadgets", "PurgeGadgets"]


def test_an_action_body_that_gained_fields_records_the_old_fields() -> None:
    assert compare(CURRENT, LEGACY).body_fields == {"Ring": ["destination", "dn"]}


def test_legacy_path_is_built_from_the_new_methods_arguments() -> None:
    legacy = compare(CURRENT, LEGACY).changed["GetWidgetByNumber"]
    expression = path_expression(legacy.operation.segments, "GET", legacy.operation.kind, legacy.arguments)
    scope = {"Typed": Typed, "function_path": function_path}
    assert eval(expression, scope, {"number": "100"}) == "Widgets/Pbx.GetByNumber(number='100')"


# -- the real spec ----------------------------------------------------------------------------


def test_every_operation_of_the_official_spec_gets_a_method(current_spec: LoadedSpec) -> None:
    resources = OperationReader(current_spec.document).resources()
    operations = [op for resource in resources for op in resource.operations]
    assert len(operations) == 601
    by_method: dict[str, int] = {}
    for op in operations:
        by_method[op.http_method] = by_method.get(op.http_method, 0) + 1
    assert by_method == {"GET": 322, "POST": 180, "PATCH": 65, "DELETE": 34}
    for resource in resources:
        names = [op.method_name for op in resource.operations]
        assert len(names) == len(set(names)), resource.tag


def test_every_schema_of_the_official_spec_gets_a_class(current_spec: LoadedSpec) -> None:
    schemas = current_spec.document["components"]["schemas"]
    writer = ModelsWriter(schemas)
    written = len(writer.models()) + len(writer.enums()) + len(writer.scalars())
    assert len(schemas) == 597 and written == 597
    assert len(writer.module_of()) == 597


def test_models_are_split_so_that_modules_never_import_each_other_in_a_cycle(
    current_spec: LoadedSpec,
) -> None:
    writer = ModelsWriter(current_spec.document["components"]["schemas"])
    modules = writer.modules()
    # One module per model, except classes that refer to each other, which share one.
    assert sum(len(classes) for classes in modules.values()) == len(writer.models())
    assert [sorted(m.name for m in classes) for classes in modules.values() if len(classes) > 1] == [
        ["OAuthClient", "RefreshToken"]
    ]


def test_the_known_drift_between_20_0_10_and_20_0_4_is_found(
    current_spec: LoadedSpec, legacy_spec: LoadedSpec
) -> None:
    drift = compare(current_spec.document, legacy_spec.document)
    assert drift.changed["GetUserByNumber"].operation.path == "/Users/Pbx.GetByNumber(number={number})"
    quality = drift.changed["GetCallQualityReport"]
    # cdrId is text, call_id an int: the old form checks the value fits before sending it.
    assert quality.arguments["call_id"] == 'as_legacy_argument(cdr_id, "Edm.Int32", "cdrId", "call_id")'
    assert quality.operation.function_params[0].edm_type == "Edm.Int32"
    assert "ListHoliday" in drift.added and "GetAISettings" in drift.added
    assert drift.body_fields["MakeCall"] == ["destination", "dn"]
    # 601 operations now, 526 then: 104 are new or moved, 29 old ones are gone or moved.
    assert len(drift.added) + len(drift.changed) == 104
    assert len(drift.removed) + len(drift.changed) == 29


def test_time_span_arguments_take_a_timedelta_and_are_written_as_3cx_time_spans(
    current_spec: LoadedSpec,
) -> None:
    report = operations_of(current_spec.document)["GetAbandonedQueueCallsData"]
    wait = next(p for p in report.function_params if p.wire == "waitInterval")
    assert (wait.annotation, wait.time_span) == ("str | timedelta | None", True)
    queues = next(p for p in report.function_params if p.wire == "queueDns")
    assert (queues.annotation, queues.time_span) == ("str | None", False)
    expression = path_expression(report.segments, "GET", report.kind)
    scope = {"Typed": Typed, "function_path": function_path, "time_span": time_span}
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    values = {
        "period_from": start,
        "period_to": start,
        "queue_dns": "0336",
        "wait_interval": timedelta(seconds=20),
    }
    assert "waitInterval='0:00:20'" in eval(expression, scope, values)
