#!/usr/bin/env python3
"""moto_server, one request at a time.

moto's DynamoDB `update_item` is not atomic under concurrent requests: two updates of a
not-yet-existing item can each create it, and the second overwrites the first (an
attribute is lost). Real DynamoDB applies every request atomically per item. Serialising
requests gives the local stack that guarantee; throughput is unchanged (moto holds the
GIL anyway). The server stays threaded so idle keep-alive connections do not block others.

Usage: moto_server.py [-H host] [-p port]   (same flags as moto_server)
"""
import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
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
