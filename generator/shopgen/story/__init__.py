"""The story: facts about the shop, the desired state, and the stages that transform it."""
