"""A bare Flask app returning a constant: the baseline of bench_http."""

from flask import Flask

app = Flask("bare")


@app.get("/constant")
def constant() -> dict[str, str]:
    return {"status": "ok"}
