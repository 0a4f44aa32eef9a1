"""Members (会员): pure rules for identity, tiers, points, stored value and count cards."""
