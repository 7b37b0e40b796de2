"""Token expiry, refresh margin, token replies and the token cache file: no server needed."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

import py3cx
from py3cx._auth import (
    ClientCredentials,
    PasswordCredentials,
    Token,
    TokenFile,
    jwt_expiry,
    normalize_url,
    refresh_margin,
    token_expiry,
)

NOW = 1_700_000_000.0


def make_jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def test_jwt_exp_claim_wins_over_expires_in() -> None:
    token = make_jwt({"exp": int(NOW) + 1234, "sub": "x"})
    assert jwt_expiry(token) == NOW + 1234
    assert token_expiry(token, 60, NOW) == NOW + 1234


def test_small_expires_in_means_minutes() -> None:
    # PBX 20.0.4 to 20.0.8 answered expires_in=60 for a one-hour token
    assert token_expiry("opaque", 60, NOW) == NOW + 3600
    assert token_expiry("opaque", "60", NOW) == NOW + 3600


def test_large_expires_in_means_seconds() -> None:
    assert token_expiry("opaque", 3600, NOW) == NOW + 3600
    assert token_expiry("opaque", 300, NOW) == NOW + 300


def test_missing_or_bad_expires_in_assumes_an_hour() -> None:
    assert token_expiry("opaque", None, NOW) == NOW + 3600
    assert token_expiry("opaque", "soon", NOW) == NOW + 3600
    assert token_expiry("opaque", 0, NOW) == NOW + 3600


def test_a_jwt_already_expired_by_our_clock_falls_back_to_expires_in() -> None:
    token = make_jwt({"exp": int(NOW) - 10})
    assert token_expiry(token, 3600, NOW) == NOW + 3600


@pytest.mark.parametrize("text", ["a.b", "a.!!!.c", "a." + base64.urlsafe_b64encode(b"[1]").decode() + ".c"])
def test_tokens_that_are_not_jwts_have_no_exp(text: str) -> None:
    assert jwt_expiry(text) is None


def test_refresh_margin_is_ten_percent_or_a_minute_whichever_smaller() -> None:
    assert refresh_margin(3600) == 60.0
    assert refresh_margin(300) == 30.0
    assert refresh_margin(2) == pytest.approx(0.2)


def test_a_token_stops_being_fresh_at_the_refresh_margin() -> None:
    token = Token("t", expires_at=NOW + 3600, obtained_at=NOW)
    assert token.is_fresh(NOW + 3539)
    assert not token.is_fresh(NOW + 3541)


def test_url_spellings_of_one_pbx_share_one_key() -> None:
    assert normalize_url("HTTPS://PBX.Example.com:443/") == "https://pbx.example.com"
    assert normalize_url("https://pbx.example.com:5001") == "https://pbx.example.com:5001"
    assert normalize_url("http://pbx.example.com:80/pbx/") == "http://pbx.example.com/pbx"


def test_client_credentials_token_reply() -> None:
    reply = json.dumps({"token_type": "Bearer", "expires_in": 3600, "access_token": "abc"}).encode()
    token = ClientCredentials("id", "s3cret").parse_reply(200, reply, NOW)
    assert token.access_token == "abc"
    assert token.expires_at == NOW + 3600


def test_refused_token_request_raises_token_error_with_oauth_fields_and_hint() -> None:
    reply = json.dumps({"error": "invalid_client", "error_description": "bad secret"}).encode()
    with pytest.raises(py3cx.TokenError) as caught:
        ClientCredentials("reports", "s3cret").parse_reply(400, reply, NOW)
    error = caught.value
    assert isinstance(error, py3cx.APIError)
    assert error.status_code == 400
    assert error.error == "invalid_client"
    assert error.error_description == "bad secret"
    assert error.hint is not None
    assert "client id and secret" in error.hint and "8SC+" in error.hint
    assert "reports" in str(error)


def test_a_secret_echoed_by_the_server_never_reaches_the_error() -> None:
    reply = json.dumps({"error": "invalid_client", "error_description": "unknown secret s3cret"}).encode()
    with pytest.raises(py3cx.TokenError) as caught:
        ClientCredentials("reports", "s3cret").parse_reply(401, reply, NOW)
    assert "s3cret" not in str(caught.value)
    assert "s3cret" not in repr(caught.value)
    assert "s3cret" not in (caught.value.error_description or "")


def test_token_endpoint_missing_hints_at_the_url() -> None:
    with pytest.raises(py3cx.TokenError) as caught:
        ClientCredentials("id", "s").parse_reply(404, b"<html>", NOW)
    assert "PBX root" in (caught.value.hint or "")


def test_password_login_reply() -> None:
    reply = json.dumps(
        {"Status": "AuthSuccess", "Token": {"token_type": "Bearer", "expires_in": 60, "access_token": "xyz"}}
    ).encode()
    token = PasswordCredentials("100", "pw").parse_reply(200, reply, NOW)
    assert token.access_token == "xyz"
    assert token.expires_at == NOW + 3600


def test_password_login_refused() -> None:
    reply = json.dumps({"Status": "AuthFailed"}).encode()
    with pytest.raises(py3cx.TokenError) as caught:
        PasswordCredentials("100", "pw").parse_reply(200, reply, NOW)
    assert caught.value.error == "AuthFailed"


def test_credential_reprs_hide_secrets() -> None:
    assert "s3cret" not in repr(ClientCredentials("id", "s3cret"))
    assert "pa55" not in repr(PasswordCredentials("100", "pa55"))
    assert "tok3n" not in repr(Token("tok3n", NOW, NOW))
    assert "s3cret" not in repr(ClientCredentials("id", "s3cret").token_request())


def test_token_file_is_private_and_round_trips(tmp_path: Path) -> None:
    cache = TokenFile(tmp_path, "https://pbx.example.com", "reports")
    token = Token("tok3n", NOW + 3600, NOW)
    cache.write(token)
    assert cache.read() == token
    assert stat.S_IMODE(os.stat(cache.path).st_mode) == 0o600
    assert "reports" not in cache.path.name and "tok3n" not in cache.path.name
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_token_file_of_another_pbx_or_client_is_not_used(tmp_path: Path) -> None:
    TokenFile(tmp_path, "https://pbx.example.com", "reports").write(Token("t", NOW + 10, NOW))
    assert TokenFile(tmp_path, "https://pbx.example.com", "other").read() is None
    assert TokenFile(tmp_path, "https://other.example.com", "reports").read() is None


def test_corrupt_token_file_reads_as_empty(tmp_path: Path) -> None:
    cache = TokenFile(tmp_path, "https://pbx.example.com", "reports")
    cache.path.write_text("{not json")
    assert cache.read() is None


def test_tokens_remember_which_credentials_fetched_them() -> None:
    right, wrong = ClientCredentials("reports", "s3cret"), ClientCredentials("reports", "typo")
    reply = json.dumps({"access_token": "abc", "expires_in": 3600}).encode()
    token = right.parse_reply(200, reply, NOW)
    assert token.fingerprint == right.fingerprint != wrong.fingerprint
    assert "s3cret" not in right.fingerprint
    assert PasswordCredentials("reports", "s3cret").fingerprint != right.fingerprint
