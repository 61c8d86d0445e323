"""A minimal provider endpoint, for when the dev provider is not available: accepts any POST with a JSON
body and answers 200 with a message id (a batch: one per message), the least work a provider call can cost.

    python -m tests.bench.bench_mini_provider --port 18009
"""

import argparse
import itertools
import json

import uvicorn

_ids = itertools.count(1)


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = json.dumps(_answer(scope["path"], b"".join(chunks))).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _answer(path: str, body: bytes) -> dict:
    # A batch (POST .../batches) is answered per message, in order, as the dev provider answers it.
    if path.endswith("/batches"):
        return {"results": [_accepted() | {"reference": m.get("reference"), "code": 201}
                            for m in json.loads(body or b"{}").get("messages", [])]}
    return _accepted()


def _accepted() -> dict:
    message_id = f"mini-{next(_ids)}"
    return {"id": message_id, "message_id": message_id, "status": "accepted"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    uvicorn.run(app, host=arguments.host, port=arguments.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
