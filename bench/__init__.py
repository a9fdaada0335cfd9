"""The benchmark: accuracy, routing and speed against ground truth (outside the engine; needs ``samples``)."""
