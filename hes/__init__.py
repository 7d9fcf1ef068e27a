"""The reference head-end: a trio application on the public dlmskit API."""
