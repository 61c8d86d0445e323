"""The notification HTTP API: scopes, validation, and what it shows."""


async def test_reminders_need_a_token(notification):
    response = await notification.api.get("/v1/reminders", params={"loan_id": "x"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_contact_preferences_need_the_write_scope(notification, make_token):
    reader = make_token("cases:read")
    response = await notification.api.put(
        "/v1/borrowers/b-1/contact-preferences", json={}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert response.status_code == 403


async def test_contact_hours_that_end_before_they_start_are_refused_with_the_field_named(notification):
    body = {"contact_hours": {"from": "20:00", "until": "09:00"}}
    response = await notification.api.put("/v1/borrowers/b-1/contact-preferences", json=body, headers=notification.auth)
    assert response.status_code == 422
    assert "contact_hours" in response.json()["detail"]


async def test_an_unknown_channel_is_refused(notification):
    body = {"opted_out": ["fax"]}
    response = await notification.api.put("/v1/borrowers/b-1/contact-preferences", json=body, headers=notification.auth)
    assert response.status_code == 422 and "opted_out" in response.json()["detail"]


async def test_preferences_read_back_as_they_were_set(notification):
    body = {
        "opted_out": ["voice", "sms", "voice"],
        "preferred_channel": "email",
        "contact_hours": {"from": "09:00", "until": "20:00"},
    }
    path = "/v1/borrowers/b-2/contact-preferences"
    assert (await notification.api.put(path, json=body, headers=notification.auth)).status_code == 200
    stored = (await notification.api.get(path, headers=notification.auth)).json()
    assert stored["opted_out"] == ["sms", "voice"] and stored["preferred_channel"] == "email"
    assert stored["contact_hours"] == {"from": "09:00", "until": "20:00"} and stored["do_not_contact"] is False


async def test_preferences_of_an_unknown_borrower_are_not_found(notification):
    response = await notification.api.get("/v1/borrowers/nobody/contact-preferences", headers=notification.auth)
    assert response.status_code == 404


async def test_ids_the_database_cannot_hold_are_refused_not_failed_on(notification):
    too_long = "b" * 3000
    for path in ("/v1/borrowers/a%00b/contact-preferences", f"/v1/borrowers/{too_long}/contact-preferences"):
        response = await notification.api.put(path, json={}, headers=notification.auth)
        assert response.status_code == 422, response.text
    response = await notification.api.get("/v1/reminders", params={"loan_id": "a\x00b"}, headers=notification.auth)
    assert response.status_code == 422


async def test_a_hold_whose_utc_time_falls_outside_the_calendar_is_refused(notification):
    body = {"hold_until": "0001-01-01T00:00:00+05:00"}
    response = await notification.api.put("/v1/borrowers/b-3/contact-preferences", json=body, headers=notification.auth)
    assert response.status_code == 422 and "hold_until" in response.json()["detail"]


async def test_the_openapi_document_names_every_error_the_routes_answer(notification):
    paths = (await notification.api.get("/openapi.json")).json()["paths"]
    preferences = paths["/v1/borrowers/{borrower_id}/contact-preferences"]
    assert {"401", "403", "404", "422", "429"} <= set(preferences["get"]["responses"])
    assert "application/problem+json" in preferences["put"]["responses"]["400"]["content"]
    assert "401" in paths["/webhooks/receipts/{provider}"]["post"]["responses"]
