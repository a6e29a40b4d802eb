#!/usr/bin/env python3
"""moto_server, one request at a time.

moto's DynamoDB `update_item` is not atomic under concurrent requests: two updates of a
not-yet-existing item can each create it, and the second overwrites the first (an
attribute is lost). Real DynamoDB applies every request atomically per item. Serialising
requests gives the local stack that guarantee; throughput is unchanged (moto holds the
GIL anyway). The server stays threaded so idle keep-alive connections do not block others.

moto's `transact_write_items` backs up every table it touches with `copy.deepcopy` before
each transaction (to roll back a cancelled one): O(table + stream) per transaction, so a test
that writes thousands of transactions slows quadratically and grows to gigabytes. Here the
backup is of the items the transaction names (and the stream's length), which is all a
cancelled transaction can have changed; the semantics are moto's own.

Usage: moto_server.py [-H host] [-p port]   (same flags as moto_server)
"""
import argparse
import copy
import threading
import types

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def item_level_transaction_backups() -> None:
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def deepcopy_but_tables(x, memo=None):
        # The original's whole-table backup becomes the table itself (its restore a no-op);
        # every other copy (an item's old image for the stream) stays a real copy.
        return x if isinstance(x, Table) else copy.deepcopy(x, memo)

    only_items = types.SimpleNamespace(deepcopy=deepcopy_but_tables, copy=copy.copy)

    def transact_write_items(self, transact_items):
        saved, shards = [], {}
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            source = op.get("Item") if op_type == "Put" else op.get("Key")
            if not source:
                continue
            hash_key = DynamoType(source[table.hash_key_attr])
            range_key = (
                DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
            )
            before = table.get_item(hash_key, range_key)
            saved.append((table, hash_key, range_key, copy.deepcopy(before)))
            if table.stream_shard is not None:
                shards[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        models.copy = only_items
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, before in reversed(saved):
                if range_key is None:
                    if before is None:
                        table.items.pop(hash_key, None)
                    else:
                        table.items[hash_key] = before
                elif before is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = before
            for shard, length in shards.values():
                del shard.items[length:]
            raise
        finally:
            models.copy = copy

    DynamoDBBackend.transact_write_items = transact_write_items


def main() -> None:
    item_level_transaction_backups()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Consume the response inside the lock: the work happens while iterating.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serialised, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
