"""The control baseline (適用基準) per system type, each system's control status and evidence, and pre-launch gates."""
