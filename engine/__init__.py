"""The self-play engine: network, self-play, replay, training, evaluation, checkpoints, CLI."""
