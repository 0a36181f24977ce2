"""The worker: what happens to a generation after the member pressed Generate.

A task moves ``pending → submitting → queued/processing → archiving → completed``
(or ``failed``, ``cancelled``, ``needs_attention``); docs/architecture.md draws the
whole state machine. The modules, in the order a task meets them:

* ``queue``: queue a django-q2 task after the transaction commits (a nudge only:
  the database is the source of truth and the sweep finds whatever is due);
* ``tasks``: the django-q2 entry points (take ids, safe to run twice);
* ``leases``: claim one task or the due batch, renew, and write-and-release;
* ``adapters``: the gateway adapter and the rebuilt request for a generation;
* ``outcomes``: how a step ends badly: fail the task, or back off and retry;
* ``submit``, ``poll``, ``archive``: the steps;
* ``poller``: status queries in flight, each answer applied as it arrives;
* ``circuit``: the circuit breakers (per host, per key) the sweep consults;
* ``sweep``: one pass over the due tasks, and the loop that repeats it.
"""
