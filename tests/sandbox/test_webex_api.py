"""Webex People API wire format, against docs/vendors.md and the published spec."""

from __future__ import annotations

import base64
import re

import httpx

from tests.fixtures.sandbox import SmtpCapture, link, text_part, unique_email
from vendor_sandbox.launcher import Sandbox


def _error_shape(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"message", "errors", "trackingId"}
    assert body["errors"] and "description" in body["errors"][0]
    assert resp.headers["trackingid"] == body["trackingId"]
    assert body["trackingId"].startswith("ROUTER_")
    return body


def test_create_get_update_delete(sandbox: Sandbox, smtp_capture: SmtpCapture) -> None:
    lic = sandbox.creds["webex"]["licenses"]["Meeting - Webex Enterprise Edition"]
    email = unique_email("wx")
    with sandbox.webex() as w:
        resp = w.post(
            "/people",
            json={"emails": [email], "displayName": "Taro Yamada", "firstName": "Taro",
                  "lastName": "Yamada", "licenses": [lic]},
        )  # fmt: skip
        assert resp.status_code == 200
        assert resp.headers["trackingid"].startswith("ROUTER_")
        person = resp.json()
        raw = base64.b64decode(person["id"] + "==").decode()
        assert re.fullmatch(r"ciscospark://us/PEOPLE/[0-9a-f-]{36}", raw)
        assert person["emails"] == [email]
        # Typed as Cisco's spec types them: the strings "true"/"false" (W-a).
        assert person["invitePending"] == "true"
        assert person["loginEnabled"] == "true"
        assert person["type"] == "person"
        assert person["status"] == "pending"
        assert person["licenses"] == [lic]
        assert person["orgId"] == sandbox.creds["webex"]["org_id"]
        assert person["created"].endswith("Z")

        assert w.get(f"/people/{person['id']}").json()["displayName"] == "Taro Yamada"
        # PUT is a full replace: displayName required, left-out fields are emptied
        assert w.put(f"/people/{person['id']}", json={"firstName": "X"}).status_code == 400
        put = w.put(f"/people/{person['id']}", json={"displayName": "T. Yamada"})
        assert put.status_code == 200
        assert put.json()["licenses"] == []
        assert "firstName" not in put.json()
        assert w.delete(f"/people/{person['id']}").status_code == 204
        _error_shape(w.get(f"/people/{person['id']}"), 404)

    mail = smtp_capture.wait_for(email, "has invited you to Cisco Webex")
    assert mail["Subject"] == "CampusConf University has invited you to Cisco Webex"
    assert "Get started with Cisco Webex." in text_part(mail)
    assert link(mail, "Activate").startswith(sandbox.url + "/webex/activate/")


def test_list_filters_and_link_paging(sandbox: Sandbox) -> None:
    with sandbox.webex() as w:
        ids = []
        for i in range(5):
            r = w.post(
                "/people", json={"emails": [f"page{i}@example.ac.jp"], "displayName": f"Pager {i}"}
            )
            ids.append(r.json()["id"])
        by_email = w.get("/people", params={"email": "PAGE3@example.ac.jp"}).json()
        assert [p["id"] for p in by_email["items"]] == [ids[3]]
        assert len(w.get("/people", params={"displayName": "Pager"}).json()["items"]) == 5
        by_id = w.get("/people", params={"id": f"{ids[0]},{ids[1]},nope"}).json()
        assert {p["id"] for p in by_id["items"]} == {ids[0], ids[1]}
        assert by_id["notFoundIds"] == ["nope"]
        assert "status" not in by_id["items"][0]  # no presence when listing by id
        _error_shape(w.get("/people", params={"id": ",".join(["x"] * 86)}), 400)

        seen, url = [], "/people?max=2"
        while url:
            resp = w.get(url)
            seen += [p["id"] for p in resp.json()["items"]]
            match = re.fullmatch(r'<([^>]+)>; rel="next"', resp.headers.get("link", ""))
            url = match.group(1) if match else ""
        assert seen == ids
        _error_shape(w.get("/people", params={"max": "0"}), 400)


def test_licenses_and_patch(sandbox: Sandbox) -> None:
    licenses = sandbox.creds["webex"]["licenses"]
    meeting = licenses["Meeting - Webex Enterprise Edition"]
    with sandbox.webex() as w:
        items = w.get("/licenses").json()["items"]
        assert {i["name"] for i in items} == set(licenses)
        assert {"id", "name", "totalUnits", "consumedUnits"} <= set(items[0])
        w.post("/people", json={"emails": ["lic@example.ac.jp"], "displayName": "L"})
        resp = w.patch(
            "/licenses/users",
            json={"email": "lic@example.ac.jp", "licenses": [{"id": meeting, "operation": "add"}]},
        )
        assert resp.status_code == 200 and resp.json()["licenses"] == [meeting]
        used = {i["id"]: i["consumedUnits"] for i in w.get("/licenses").json()["items"]}
        assert used[meeting] == 1
        bad = w.patch(
            "/licenses/users", json={"email": "lic@example.ac.jp", "licenses": [{"id": "x"}]}
        )
        _error_shape(bad, 400)


def test_activation_job_resends(sandbox: Sandbox, smtp_capture: SmtpCapture) -> None:
    org = sandbox.creds["webex"]["org_id"]
    with sandbox.webex() as w:
        w.post("/people", json={"emails": ["job@example.ac.jp"], "displayName": "J"})
        before = smtp_capture.count()
        job = w.post(f"/identity/organizations/{org}/jobs/sendActivationEmails")
        assert job.status_code == 202  # accepted, as Cisco's spec answers
        job_id = job.json()["id"]
        status = w.get(f"/identity/organizations/{org}/jobs/sendActivationEmails/{job_id}/status")
        body = status.json()
        assert body["latestExecutionStatus"] == "COMPLETED"
        counts = body["counts"]
        assert counts["userResendInviteSent"] == 1 and counts["totalUsers"] == 1
        assert {"userResendInviteFailed", "userResendInviteSkipped"} <= set(counts)
        errors = w.get(f"/identity/organizations/{org}/jobs/sendActivationEmails/{job_id}/errors")
        assert errors.json() == {"items": []}
        _error_shape(w.post("/identity/organizations/other/jobs/sendActivationEmails"), 403)
    smtp_capture.wait_for("job@example.ac.jp", "invited you", after=before)


def test_bad_input_gets_webex_errors(sandbox: Sandbox) -> None:
    base = sandbox.creds["webex"]["base_url"]
    _error_shape(httpx.get(f"{base}/people"), 401)
    _error_shape(httpx.get(f"{base}/people", headers={"Authorization": "Bearer nope"}), 401)
    with sandbox.webex() as w:
        _error_shape(
            w.post("/people", content=b"{not json", headers={"Content-Type": "application/json"}),
            400,
        )
        _error_shape(w.post("/people", json=[1, 2]), 400)
        _error_shape(w.post("/people", json={"emails": "a@b.c", "displayName": "x"}), 400)
        _error_shape(
            w.post("/people", json={"emails": ["a@b.example"], "bogus": 1, "displayName": "x"}), 400
        )
        _error_shape(w.post("/people", json={"emails": ["a@b.example"]}), 400)
        _error_shape(
            w.post("/people", json={"emails": ["not-an-address"], "displayName": "x"}), 400
        )
        _error_shape(
            w.post("/people", content=b"x" * 300_000, headers={"Content-Type": "application/json"}),
            413,
        )
        _error_shape(w.delete("/people"), 405)
        _error_shape(w.get("/nothing/here"), 404)
        w.post("/people", json={"emails": ["dup@example.ac.jp"], "displayName": "D"})
        _error_shape(
            w.post("/people", json={"emails": ["dup@example.ac.jp"], "displayName": "D"}), 409
        )
