"""A robot (RPA) working Lotsen's queue of approved end-of-employment orders, with nothing but the standard
library: claim the oldest order, do the routine steps, report done or failed. Run it as often as you like;
an empty queue ends it.

    LOTSEN_URL=https://lotsen.kommun.se LOTSEN_TOKEN=lot_... python docs/examples/robot_queue.py

The token carries only the scope orders:queue and belongs to an HR account:
    flask --app wsgi users tokens create hr.robot "Tintin" --scope orders:queue
"""

import json
import logging
import os
import urllib.request
import uuid

BASE = os.environ.get("LOTSEN_URL", "http://127.0.0.1:5000").rstrip("/") + "/api/v1"
TOKEN = os.environ["LOTSEN_TOKEN"]
log = logging.getLogger("robot")


def call(method: str, path: str, body: dict | None = None, headers: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 (the configured Lotsen, over http or https)
        BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (the configured Lotsen)
        return answer.status, (json.loads(answer.read() or b"null"))


def routine_steps(order: dict) -> None:
    """Close the account, order the final pay, ... in the systems Lotsen does not reach (the robot's job)."""
    employee, end = order["data"]["employee"], order["data"]["end"]
    log.info("ending %s %s on %s", employee["first_name"], employee["last_name"], end["last_day"])


def main() -> None:
    while True:
        # a retried request with the same key gets the same order back, never a second one
        status, claimed = call("POST", "/robot/orders/claim", headers={"Idempotency-Key": uuid.uuid4().hex})
        if status == 204:
            log.info("the queue is empty")
            return
        order, claim = claimed["order"], claimed["claim"]
        try:
            routine_steps(order)
        except Exception as exc:  # report what stopped it; HR sees the note and can put the order back
            call("POST", f"/robot/orders/{order['id']}/report",
                 {"claim": claim, "outcome": "failed", "note": str(exc)[:2000]})
            continue
        call("POST", f"/robot/orders/{order['id']}/report", {"claim": claim, "outcome": "done", "note": "klart"})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
