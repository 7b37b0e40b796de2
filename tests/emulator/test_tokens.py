"""Tokens, logins and roles behave as on a real PBX (BEHAVIOUR.md §1)."""

from __future__ import annotations

import base64
import json
import time

import pytest

from py3cx.emulator import ApiClient

from .emulator_harness import ADMIN, OWNER, WEB_USER, Pbx, make_pbx


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def test_client_credentials_give_a_bearer_jwt_with_expiry(shared_pbx: Pbx) -> None:
    response = shared_pbx.token_response(OWNER)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = _claims(body["access_token"])
    assert abs(float(str(claims["exp"])) - (time.time() + 3600)) < 30


def test_multipart_token_request_works_like_a_form(shared_pbx: Pbx) -> None:
    files = {
        "client_id": (None, OWNER.client_id),
        "client_secret": (None, OWNER.secret),
        "grant_type": (None, "client_credentials"),
    }
    response = shared_pbx.request("POST", "/connect/token", files=files)
    assert response.status_code == 200
    assert response.json()["access_token"].count(".") == 2


def test_expires_in_can_be_reported_in_minutes_like_builds_before_20_0_9() -> None:
    pbx = make_pbx(expires_in_unit="minutes", token_ttl=3599)
    try:
        assert pbx.token_response().json()["expires_in"] == 60
    finally:
        pbx.close()


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("owner", "wrong-secret"), ("nobody", "owner-secret"), ("jane@example.com", "pa55word")],
)
def test_wrong_client_credentials_get_an_oauth_error(shared_pbx: Pbx, client_id: str, secret: str) -> None:
    response = shared_pbx.token_response(ApiClient(client_id, secret), secret)
    assert response.status_code in (400, 401)
    body = response.json()
    assert body["error"] == "invalid_client"
    assert "error_description" in body
    assert secret not in response.text


def test_second_token_request_invalidates_the_first(pbx: Pbx) -> None:
    first = pbx.token(OWNER)
    assert pbx.get("Users?$top=1", token=first).status_code == 200
    second = pbx.token(OWNER)
    assert pbx.get("Users?$top=1", token=first).status_code == 401
    assert pbx.get("Users?$top=1", token=second).status_code == 200


def test_tokens_of_different_clients_do_not_invalidate_each_other(pbx: Pbx) -> None:
    owner = pbx.token(OWNER)
    pbx.token(ADMIN)
    assert pbx.get("Users?$top=1", token=owner).status_code == 200


def test_expired_token_is_refused() -> None:
    pbx = make_pbx(token_ttl=0.3)
    try:
        token = pbx.token(OWNER)
        assert pbx.get("Users?$top=1", token=token).status_code == 200
        time.sleep(0.45)
        response = pbx.get("Users?$top=1", token=token)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    finally:
        pbx.close()


@pytest.mark.parametrize("path", ["Users", "Defs", "$metadata", "Defs/Pbx.GetSystemParameters()", ""])
def test_every_xapi_path_but_the_spec_needs_a_bearer_token(shared_pbx: Pbx, path: str) -> None:
    assert shared_pbx.request("GET", f"/xapi/v1/{path}").status_code == 401
    headers = {"Authorization": "Bearer not.a.token"}
    assert shared_pbx.request("GET", f"/xapi/v1/{path}", headers=headers).status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not.a.token"}])
def test_the_spec_at_swagger_yaml_answers_without_a_token(shared_pbx: Pbx, headers: dict[str, str]) -> None:
    # the official xapi-tutorial generates its client from this URL with no credentials
    response = shared_pbx.request("GET", "/xapi/v1/swagger.yaml", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.content.startswith(b"openapi: ")
    assert shared_pbx.get("swagger.yaml").content == response.content  # and with a token, the same


def test_a_token_signed_by_someone_else_is_refused(shared_pbx: Pbx) -> None:
    header, payload, _ = shared_pbx.token(OWNER).split(".")
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(b'x' * 32).decode().rstrip('=')}"
    assert shared_pbx.get("Users", token=forged).status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "CallHistoryView?$top=1",
        "ChatHistoryView",
        "ChatMessagesHistoryView",
        "Recordings",
        "ScheduledReports",
    ],
)
def test_system_admin_gets_403_on_history_recordings_and_scheduled_reports(
    shared_pbx: Pbx, path: str
) -> None:
    response = shared_pbx.get(path, client=ADMIN)
    assert response.status_code == 403
    assert "message" in response.json()["error"]
    assert shared_pbx.get(path, client=OWNER).status_code == 200


def test_system_admin_can_read_users(shared_pbx: Pbx) -> None:
    assert shared_pbx.get("Users?$top=1", client=ADMIN).status_code == 200


@pytest.mark.parametrize("path", ["MyUser", "MyGroup", "MyTokens"])
def test_my_paths_answer_403_to_api_clients(shared_pbx: Pbx, path: str) -> None:
    response = shared_pbx.get(path, client=OWNER)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == ""


def test_web_login_with_password_gives_a_token_and_refresh_token(shared_pbx: Pbx) -> None:
    response = shared_pbx.request(
        "POST",
        "/webclient/api/Login/GetAccessToken",
        json={"Username": WEB_USER.username, "Password": WEB_USER.password, "SecurityCode": ""},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["Status"] == "AuthSuccess"
    token = body["Token"]
    assert set(token) == {"token_type", "expires_in", "access_token", "refresh_token"}
    assert shared_pbx.get("MyUser", token=token["access_token"]).status_code == 200
    assert shared_pbx.get("Users?$top=1", token=token["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [(WEB_USER.username, "wrong"), (OWNER.client_id, OWNER.secret)]
)
def test_web_login_refuses_wrong_passwords_and_api_client_credentials(
    shared_pbx: Pbx, username: str, password: str
) -> None:
    response = shared_pbx.request(
        "POST",
        "/webclient/api/Login/GetAccessToken",
        json={"Username": username, "Password": password, "SecurityCode": ""},
    )
    assert response.json()["Status"] == "AuthFailed"
    assert "Token" not in response.json()


def test_refresh_token_renews_a_web_login_once(pbx: Pbx) -> None:
    login = pbx.request(
        "POST",
        "/webclient/api/Login/GetAccessToken",
        json={"Username": WEB_USER.username, "Password": WEB_USER.password, "SecurityCode": ""},
    ).json()["Token"]
    form = {"grant_type": "refresh_token", "client_id": "Webclient", "refresh_token": login["refresh_token"]}
    renewed = pbx.request("POST", "/connect/token", data=form)
    assert renewed.status_code == 200
    assert pbx.get("Users?$top=1", token=renewed.json()["access_token"]).status_code == 200
    assert pbx.get("Users?$top=1", token=login["access_token"]).status_code == 401
    assert pbx.request("POST", "/connect/token", data=form).json()["error"] == "invalid_grant"


def test_stats_count_token_requests_per_client_and_can_be_reset(pbx: Pbx) -> None:
    pbx.token(OWNER)
    pbx.token(OWNER)
    pbx.token_response(ADMIN, "wrong")
    stats = pbx.request("GET", "/_emulator/stats").json()
    assert stats["token_requests"] == {"owner": 2, "admin": 1}
    assert stats["tokens_issued"] == {"owner": 2}
    assert pbx.request("POST", "/_emulator/reset-stats").status_code == 204
    assert pbx.request("GET", "/_emulator/stats").json()["token_requests"] == {}


def test_control_routes_refuse_clients_that_are_not_on_loopback(shared_pbx: Pbx) -> None:
    import httpx2

    async def from_elsewhere() -> int:
        transport = httpx2.ASGITransport(app=shared_pbx.app, client=("192.0.2.10", 5555))
        async with httpx2.AsyncClient(transport=transport, base_url="http://pbx.test") as client:
            return (await client.get("/_emulator/stats")).status_code

    assert shared_pbx.loop.run_until_complete(from_elsewhere()) == 403


def test_secrets_do_not_appear_in_reprs() -> None:
    assert OWNER.secret not in repr(OWNER)
    assert WEB_USER.password not in repr(WEB_USER)
