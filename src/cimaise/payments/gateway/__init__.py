"""A local gateway speaking the Alipay and WeChat Pay protocols (``cimaise payments sandbox``),
for development and tests: it verifies our signed requests and refuses bad ones as the real
gateways do, shows a page with the QR code and **Pay**/**Fail** buttons, sends signed (WeChat Pay:
encrypted) notifications with the real retry behaviour plus one deliberate duplicate, and answers
queries, closes and refunds. It is a small standalone WSGI application (no Django) with its own
SQLite store and keys under a state directory, and it listens on loopback only.
"""
