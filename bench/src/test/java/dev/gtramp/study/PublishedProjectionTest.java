package dev.gtramp.study;

import dev.gtramp.study.StudyResult.PublishedComparison;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The projection of every published scenario from the model's exact counts and the committed cost
 * table. Deterministic: the counts are exact and the table is committed, so this fails when either
 * drifts (a design that starts counting differently, a unit cost changed without refitting).
 */
class PublishedProjectionTest {

    @Test
    void everyProjectionIsWithinTwiceItsPublishedNumberAndEveryFitIsCurrent() {
        CostModel costs = CostModel.committed();
        assertTrue(costs.published().size() >= 7, "the table lists the published numbers the study compares against");
        List<String> misses = new ArrayList<>();
        for (CostModel.Published p : costs.published()) {
            PublishedComparison c = StudyRunner.compare(costs, p);
            assertEquals(p.seconds(), c.publishedSeconds());
            if (c.ratio() < 0.5 || c.ratio() > 2) {
                misses.add(p.id() + " projected " + c.projectedSeconds() + " s against " + p.seconds() + " s");
            }
            if (p.role().equals("fitted") && Math.abs(c.ratio() - 1) > 0.01) {
                misses.add(p.id() + " is fitted but its projection is " + c.ratio() + " of it: refit the table");
            }
        }
        assertEquals(List.of(), misses);
    }

    @Test
    void theTableFitsAtMostTwoParametersAndHoldsOutTheRest() {
        CostModel.Table t = CostModel.committed().table();
        long fitted = t.events().stream().filter(CostModel.EventCost::fitted).count()
                + t.tools().stream().filter(CostModel.ToolCost::fitted).count();
        assertEquals(2, fitted);
        long heldOut = t.published().stream().filter(p -> p.role().equals("held-out")).count();
        assertTrue(heldOut >= 5, "held-out predictions: " + heldOut);
        t.events().forEach(e -> assertTrue(e.source().length() > 20, e.event() + " has no real source: " + e.source()));
    }

    @Test
    void eraPricingChangesOnlyWhatTheEraNames() {
        CostModel costs = CostModel.committed();
        var events = java.util.Map.of("ftrace.call_rcu_tasks", 10L, "alloc.bpf_tramp_image", 3L, "ftrace.text_pokes", 7L);
        var now = costs.terms(events, null);
        var before610 = costs.terms(events, "before-6.10");
        var beforeFix = costs.terms(events, "before-pr-13691");
        assertEquals(10 * costs.unitOf("ftrace.grace_periods_tasks") / 1e9, before610.get("ftrace.call_rcu_tasks"), 1e-12);
        assertEquals(now.get("ftrace.text_pokes"), before610.get("ftrace.text_pokes"));
        assertEquals(2 * now.get("alloc.bpf_tramp_image"), beforeFix.get("alloc.bpf_tramp_image"), 1e-12);
        assertEquals(now.get("ftrace.text_pokes"), beforeFix.get("ftrace.text_pokes"));
    }
}
