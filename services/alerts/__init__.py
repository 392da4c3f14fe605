"""The alerts service: rules over the event stream, delivery to Slack and email.

Modules, in the order an alert travels:

- `settings`: what the service can be tuned with (live age, backoff, buckets).
- `model`: levels, kinds, channels, subscriptions, rules and switches.
- `store`: channels, subscriptions, rules and switches in a NATS KV bucket,
  with an in-memory copy kept current by a watch.
- `crypto`: channel secrets sealed with the server key (AES-GCM).
- `runs`: what the service knows of each run (name, group, tags, owner).
- `evaluate`: a fetched batch of events in, the alerts it raises out.
- `ruling`: rule state kept in Redis (consecutive breaches, stalls, waits).
- `ledger`: alert and delivery records in a KV bucket, written before and
  after each attempt.
- `dispatch`: one worker per channel, retries with backoff.
- `slack`, `smtp`, `messages`: the channels and what they send.
- `consumer`: the durable JetStream consumer.
- `service`, `api`, `__main__`: the process, its REST API and entry point.
"""
