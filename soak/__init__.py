"""The soak (`make soak`): simulated tills and handhelds against one store server,
with the hq_link agent replicating to HQ."""
