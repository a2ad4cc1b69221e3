"""Document types of the grades app (registered at start-up by GradesConfig.ready)."""
