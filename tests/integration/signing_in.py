"""A user registered and logged in through an app's test client."""

from __future__ import annotations

from flask.testing import FlaskClient


def signed_in(client: FlaskClient, email: str = "a@example.com",
              password: str = "password123") -> dict[str, str]:
    """Register ``email`` and log in: the headers its requests carry."""
    client.post("/api/v1/auth/register", json={"email": email, "password": password})
    token = client.post("/api/v1/auth/login", json={
        "email": email, "password": password}).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}"}
