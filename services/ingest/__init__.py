"""Ingest: authenticates agents' streams, validates their events, keeps the run
registry and publishes to JetStream, acknowledging only what JetStream stored.

Modules: `server` (the process), `service` (the gRPC servicer), `session`
(one stream), `registry` (the ``runs`` bucket), `validate`, `publisher`,
`auth`, `heartbeats`, `http`, `metrics`; errors in `errors`.
"""
