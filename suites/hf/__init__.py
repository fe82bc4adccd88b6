"""The hf suite: real Transformers inference on the device agrees with the CPU, offline."""
