"""The cheapest renderer there is: zeros. Measures what the protocol itself costs (bench)."""
import json, struct, sys
import numpy as np

SIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 16
DTYPE = sys.argv[2] if len(sys.argv) > 2 else "uint8"
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
stdin.readline()
stdout.write(json.dumps({
    "protocol": "dsgen-renderer", "version": 1, "capabilities": ["render"], "name": "zeros",
    "renderer_version": "1", "image_size": SIZE, "dtype": DTYPE, "classes": ["zero"],
    "latents": [],
}).encode() + b"\n")
stdout.flush()
itemsize = np.dtype(DTYPE).itemsize
for line in stdin:
    count = int(line.split()[3])
    payload = bytes(count * (SIZE * SIZE * itemsize + 1))
    stdout.write(b"DSRA" + struct.pack("<IQ", 0, len(payload)))
    stdout.write(payload)
    stdout.flush()
