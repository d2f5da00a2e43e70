"""The write path of the registry, by job:

- `schema`: the content of an edition and its rules (fields declared once, in guides.snapshot);
- `workflow`: the transition table — who may do what, from which status (no I/O);
- `commands`: one transaction per use case (save, submit, send back, approve, withdraw);
- `publication`: snapshot, change log, make current, and the due-publisher;
- `store`: rows <-> content, locking, catalogue lookups.
"""
