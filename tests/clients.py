"""Talking to the app as a browser or an API client does: forms with their CSRF token, logging
in, bearer tokens, error bodies; and threads released together for races."""

import re
import threading

from tests.factories import PASSWORD


def csrf_token(client):
    page = client.get("/privacy").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def post_form(client, url, data, **kwargs):
    """POST a form the way a browser does, with the CSRF token of the client's session."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client)}, **kwargs)


def log_in(client, login, password=PASSWORD):
    response = post_form(client, "/login", {"login": login, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


EN = {"Accept-Language": "en"}


def logged_in(app, email):
    client = app.test_client()
    log_in(client, email)
    return client


def token_for(client, login, password=PASSWORD):
    response = client.post("/api/v1/tokens", json={"login": login, "password": password})
    assert response.status_code == 201, response.json
    return response.json["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    assert error["code"] == code and error["message"] and isinstance(error["fields"], dict)
    return error


def at_once(functions):
    """Run the functions in threads released together; returns their results (or exceptions)."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(i):
        barrier.wait()
        try:
            results[i] = functions[i]()
        except Exception as exc:  # reported by the caller's assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
