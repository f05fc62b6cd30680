"""A renderer that speaks the dsgen protocol and misbehaves as its first argument asks.

Modes: ok, nondeterministic, crash, short, long, trailing, badheader, nan, label, hang,
badhandshake, silent, error. Used by tests/external_renderer_test.ts.
"""
import json, os, struct, sys, time
import numpy as np

MODE = sys.argv[1]
SIZE = 8
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer


def answer(status, payload):
    stdout.write(b"DSRA" + struct.pack("<IQ", status, len(payload)) + payload)
    stdout.flush()


stdin.readline()
if MODE == "silent":
    print("renderer: thinking very hard", file=sys.stderr, flush=True)
    time.sleep(3600)
if MODE == "badhandshake":
    stdout.write(b'{"protocol": "dsgen-renderer", "version": 7}\n')
    stdout.flush()
    time.sleep(3600)
stdout.write(json.dumps({
    "protocol": "dsgen-renderer", "version": 1, "capabilities": ["render"], "name": "faulty",
    "renderer_version": "0.1", "image_size": SIZE, "dtype": "float64", "classes": ["a", "b"],
    "latents": ["brightness"], "parameters": {"mode": MODE},
}).encode() + b"\n")
stdout.flush()
served = 0
for line in stdin:
    seed, first, count = map(int, line.split()[1:])
    index = np.arange(first, first + count)
    brightness = ((index * 2654435761 + seed) % 1000) / 1000.0
    if MODE == "nondeterministic":
        brightness = np.random.default_rng().uniform(0, 1, count)
    images = np.broadcast_to(brightness[:, None, None], (count, SIZE, SIZE)).astype("<f8")
    labels = (index % 2).astype("u1")
    latents = brightness.astype("<f4")
    served += 1
    if MODE == "crash" and served == 2:
        print("Traceback (most recent call last):", file=sys.stderr)
        print("ZeroDivisionError: division by zero", file=sys.stderr, flush=True)
        sys.exit(3)
    if MODE == "nan" and served == 2:
        images = images.copy()
        images[1, 2, 3] = np.nan
    if MODE == "label" and served == 2:
        labels[0] = 5
    if MODE == "hang" and served == 2:
        print("renderer: stuck on a lock", file=sys.stderr, flush=True)
        time.sleep(3600)
    if MODE == "error" and served == 2:
        answer(1, b"cannot render: the GPU is gone")
        continue
    payload = images.tobytes() + labels.tobytes() + latents.tobytes()
    if MODE == "short" and served == 2:
        stdout.write(b"DSRA" + struct.pack("<IQ", 0, len(payload)) + payload[:100])
        stdout.flush()
        sys.exit(0)
    if MODE == "long" and served == 2:
        payload += b"\0" * 8
    if MODE == "badheader" and served == 2:
        stdout.write(b"OOPS" + struct.pack("<IQ", 0, len(payload)) + payload)
        stdout.flush()
        continue
    answer(0, payload)
if MODE == "trailing":
    stdout.write(b"bye\n")
    stdout.flush()
