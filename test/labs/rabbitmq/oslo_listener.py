#!/usr/bin/python3
"""A real oslo.messaging notification listener (Debian python3-oslo.messaging), as a Masakari consumer runs one.

Usage: oslo_listener.py TRANSPORT_URL [TOPIC] [EXCHANGE]
Listens on <TOPIC>.<priority> of exchange EXCHANGE (default versioned_notifications on masakari) and prints one
JSON line per notification received: priority, publisher_id, event_type, payload, metadata (message_id,
timestamp), and the context keys oslo.messaging unpacked. Prints {"ready": true} once listening.
"""
import json
import sys
import threading

from oslo_config import cfg
import oslo_messaging

url = sys.argv[1]
topic = sys.argv[2] if len(sys.argv) > 2 else 'versioned_notifications'
exchange = sys.argv[3] if len(sys.argv) > 3 else 'masakari'
lock = threading.Lock()


def emit(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + '\n')
        sys.stdout.flush()


class Endpoint(object):
    def _got(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        emit({'priority': priority, 'publisher_id': publisher_id, 'event_type': event_type,
              'payload': payload, 'metadata': metadata, 'context': ctxt})

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got('INFO', ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got('ERROR', ctxt, publisher_id, event_type, payload, metadata)

    def warn(self, ctxt, publisher_id, event_type, payload, metadata):
        self._got('WARN', ctxt, publisher_id, event_type, payload, metadata)


conf = cfg.ConfigOpts()
conf([], project='obs-listener')
transport = oslo_messaging.get_notification_transport(conf, url=url)
targets = [oslo_messaging.Target(topic=topic, exchange=exchange)]
listener = oslo_messaging.get_notification_listener(transport, targets, [Endpoint()], executor='threading')
listener.start()
emit({'ready': True})
try:
    for line in sys.stdin:
        pass
finally:
    listener.stop()
    listener.wait()
