"""The torch suite: device discovery, GTT memory, op parity against the CPU, training
parity and throughput.  torch is imported inside fixtures and functions only."""
