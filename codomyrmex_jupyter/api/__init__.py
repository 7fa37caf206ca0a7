"""The public Python API (WorkflowManager & co.), built on the engine."""
