"""The public names of py3cx.odata are exactly these: others import them."""

import py3cx.odata

EXPECTED = {
    "EDM_TYPES",
    "Duration",
    "EnumMember",
    "Expr",
    "F",
    "Operand",
    "TimeSpan",
    "Typed",
    "action_path",
    "and_",
    "build_query",
    "date_of",
    "encode_path_literal",
    "encode_query_value",
    "function_path",
    "key_path",
    "literal",
    "or_",
    "query_params",
    "tolower",
    "toupper",
}


def test_all_lists_exactly_the_public_names() -> None:
    assert set(py3cx.odata.__all__) == EXPECTED


def test_every_public_name_is_importable_and_documented() -> None:
    for name in py3cx.odata.__all__:
        member = getattr(py3cx.odata, name)
        if callable(member):
            assert member.__doc__, f"{name} has no docstring"


def test_no_private_module_leaks_into_the_package_namespace() -> None:
    public = {name for name in vars(py3cx.odata) if not name.startswith("_")}
    modules = {"filter", "literals", "paths", "query"}
    assert public - modules == EXPECTED
