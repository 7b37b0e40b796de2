"""The public names of `py3cx` are exactly the documented ones, and each is really exported."""

import subprocess
import sys

import py3cx

EXPECTED = {
    # clients
    "Client",
    "AsyncClient",
    "Page",
    "RetryPolicy",
    # the exception tree (docs/architecture.md)
    "Py3cxError",
    "ConfigError",
    "APIError",
    "APIConnectionError",
    "APITimeoutError",
    "TokenError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "GatewayTimeoutError",
    "ODataError",
    # OData helpers, re-exported from py3cx.odata
    "F",
    "Expr",
    "literal",
    "build_query",
    "key_path",
    "function_path",
    "action_path",
    "and_",
    "or_",
    "Duration",
    "TimeSpan",
    "EnumMember",
    "__version__",
}


def test_all_lists_exactly_the_public_names() -> None:
    assert set(py3cx.__all__) == EXPECTED
    assert len(py3cx.__all__) == len(set(py3cx.__all__))


def test_every_public_name_is_defined() -> None:
    for name in py3cx.__all__:
        assert getattr(py3cx, name) is not None, name


def test_no_other_public_module_attributes_leak() -> None:
    public = {n for n in vars(py3cx) if not n.startswith("_")}
    # submodules imported as a side effect are reachable but are not part of __all__
    modules = {n for n in public if type(getattr(py3cx, n)).__name__ == "module"}
    assert public - modules == EXPECTED - {"__version__"}


def test_odata_helpers_are_the_same_objects_as_in_py3cx_odata() -> None:
    import py3cx.odata

    for name in ("F", "literal", "build_query", "key_path", "function_path"):
        assert getattr(py3cx, name) is getattr(py3cx.odata, name)


def test_exception_tree_matches_the_contract() -> None:
    assert issubclass(py3cx.ConfigError, py3cx.Py3cxError)
    assert issubclass(py3cx.APIError, py3cx.Py3cxError)
    assert issubclass(py3cx.APITimeoutError, py3cx.APIConnectionError)
    assert issubclass(py3cx.APIConnectionError, py3cx.APIError)
    assert issubclass(py3cx.TokenError, py3cx.APIError)
    for cls in (
        py3cx.BadRequestError,
        py3cx.AuthenticationError,
        py3cx.PermissionDeniedError,
        py3cx.NotFoundError,
        py3cx.ConflictError,
        py3cx.RateLimitError,
        py3cx.InternalServerError,
        py3cx.ServiceUnavailableError,
        py3cx.GatewayTimeoutError,
    ):
        assert issubclass(cls, py3cx.APIStatusError)
    assert issubclass(py3cx.APIStatusError, py3cx.APIError)


def test_importing_py3cx_stays_light() -> None:
    heavy = ("pydantic", "rich", "typer", "starlette", "sqlalchemy", "uvicorn", "py3cx.emulator")
    code = f"import sys, py3cx; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
