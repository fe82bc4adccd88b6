"""The docker suite: does a ROCm container get the GPU, and only when asked to."""
