"""The onnxruntime suite: which execution providers exist, and do they agree with the CPU."""
