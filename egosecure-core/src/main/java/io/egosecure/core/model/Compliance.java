package io.egosecure.core.model;

/**
 * How far a tenant's fleet has come with the current revision. {@code applied}, {@code failed}
 * and {@code behind} split {@code agents}; {@code silent} counts, across them, the agents not seen
 * for three poll intervals.
 *
 * @param applied agents whose last report is APPLIED for the current revision
 * @param failed agents whose last report is FAILED for the current revision
 * @param behind agents with no report for the current revision yet
 * @param silent agents not seen for three intervals (or never, if enrolled that long ago)
 */
public record Compliance(
    long revision, long agents, long applied, long failed, long behind, long silent) {}
