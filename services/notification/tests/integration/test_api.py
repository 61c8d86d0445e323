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
