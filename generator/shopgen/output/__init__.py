"""Output: plan a render against the tree, write it through a journal under a lock, remember state."""
