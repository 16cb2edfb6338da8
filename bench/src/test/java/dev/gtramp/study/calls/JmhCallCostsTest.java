package dev.gtramp.study.calls;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.study.StudyDesign;
import dev.gtramp.study.StudyDesigns;
import dev.gtramp.study.StudyOptions;
import dev.gtramp.study.StudyResult.CallCost;
import dev.gtramp.study.StudyRunner;
import dev.gtramp.study.StudyTargets;
import dev.gtramp.trampoline.Trampolines;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JmhCallCostsTest {
    private static final int ALL = 200;

    @Test
    void measuresEveryCaseInThisJvm() {
        StudyRunner.CallRequest request = new StudyRunner.CallRequest(List.of("single-ops", "global-hash"),
                Map.of("single-ops", ALL, "global-hash", ALL), 0, 1, null, List.of(),
                new StudyOptions.CallSettings(0, 1, 1, 50));
        List<String> steps = new ArrayList<>();
        List<CallCost> costs = new JmhCallCosts((what, done, total) -> steps.add(done + "/" + total + " " + what))
                .measure(request);

        // 2 designs x 3 kinds x (1, all) + the NOP site.
        assertEquals(2 * 3 * 2 + 1, costs.size(), costs.toString());
        assertEquals(costs.size() + 1, steps.size(), steps.toString());
        assertEquals("13/13 done", steps.get(steps.size() - 1));
        for (CallCost c : costs) {
            assertTrue(Double.isFinite(c.nsPerCall()) && c.nsPerCall() > 0, c.toString());
            assertTrue(Double.isFinite(c.ratio()) && c.ratio() > 0, c.toString());
        }

        int fmodRet = fmodRetTargets();
        for (String design : List.of("single-ops", "global-hash")) {
            assertEquals(1, find(costs, design, "fentry", 1).attached());
            assertEquals(ALL, find(costs, design, "fentry", ALL).attached());
            assertEquals(ALL, find(costs, design, "fexit", ALL).attached());
            assertEquals(Math.min(ALL, fmodRet), find(costs, design, "fmod_ret", Math.min(ALL, fmodRet)).attached());
        }
        assertEquals(0, find(costs, "nop", "kernel-count", 0).attached());

        // The reference: single-ops fentry with one function attached.
        assertEquals(1.0, find(costs, "single-ops", "fentry", 1).ratio());
        CallCost globalFentry = find(costs, "global-hash", "fentry", 1);
        assertEquals(find(costs, "single-ops", "fentry", 1).nsPerCall() / globalFentry.nsPerCall(), globalFentry.ratio(), 1e-12);

        // bench_trigger v2, relative to trig-fentry (107.1 M/s).
        assertKernel(107.1, find(costs, "single-ops", "fentry", 1));
        assertKernel(56.6, find(costs, "single-ops", "fexit", 1));
        assertKernel(59.5, find(costs, "single-ops", "fmod_ret", 1));
        assertNull(find(costs, "single-ops", "fentry", ALL).kernelRatio());
        assertNull(find(costs, "single-ops", "fexit", ALL).kernelRatio());
        assertNull(find(costs, "single-ops", "fmod_ret", Math.min(ALL, fmodRet)).kernelRatio());
        assertKernel(99.1, find(costs, "global-hash", "fentry", 1));
        assertKernel(55.4, find(costs, "global-hash", "fexit", 1));
        assertKernel(56.6, find(costs, "global-hash", "fmod_ret", 1));
        assertKernel(97.9, find(costs, "global-hash", "fentry", ALL));
        assertNull(find(costs, "global-hash", "fexit", ALL).kernelRatio());
        assertNull(find(costs, "global-hash", "fmod_ret", Math.min(ALL, fmodRet)).kernelRatio());
        assertKernel(313.4, find(costs, "nop", "kernel-count", 0));
    }

    @Test
    void referenceFallsBackToTheFirstPerFunctionDesignThenTheFirstDesign() {
        JmhCallCosts.Case gh = new JmhCallCosts.Case("global-hash", "fentry", 1, 1, true, "f");
        JmhCallCosts.Case classic = new JmhCallCosts.Case("classic", "fentry", 1, 1, false, "f");
        JmhCallCosts.Case classicAll = new JmhCallCosts.Case("classic", "fentry", 9, 9, false, "f");
        JmhCallCosts.Case single = new JmhCallCosts.Case("single-ops", "fentry", 1, 1, false, "f");
        JmhCallCosts.Case nop = new JmhCallCosts.Case("nop", "kernel-count", 1, 0, false, "f");
        assertEquals(single, JmhCallCosts.reference(List.of(gh, classic, single, nop)));
        assertEquals(classic, JmhCallCosts.reference(List.of(gh, classicAll, classic, nop)));
        assertEquals(gh, JmhCallCosts.reference(List.of(gh, nop)));
    }

    @Test
    void setupOfAnUnknownDesignFailsNamingIt() {
        StudyCallBenchmark b = state("no-such-design", "fentry", 1);
        KernelException e = assertThrows(KernelException.class, b::setUp);
        assertTrue(e.getMessage().contains("no-such-design"), e.getMessage());
        assertTrue(e.getMessage().contains("single-ops"), "lists the known designs: " + e.getMessage());
    }

    @Test
    void aFailedCaseIsReportedNamingItAndTheCause() {
        // Known here, unknown to the benchmark's own registry: its setup fails inside JMH.
        StudyDesign real = StudyDesigns.load().select(List.of("single-ops")).get(0);
        StudyDesign fake = new StudyDesign() {
            @Override
            public String name() {
                return "fake-design";
            }

            @Override
            public String summary() {
                return real.summary();
            }

            @Override
            public TrampolinesConfig config() {
                return real.config();
            }

            @Override
            public Loaded load(Trampolines t, BpfTrampKind kind, List<KernelFunction> functions) {
                return real.load(t, kind, functions);
            }
        };
        StudyRunner.CallRequest request = new StudyRunner.CallRequest(List.of("fake-design"), Map.of(), 0, 1, null,
                List.of(), new StudyOptions.CallSettings(0, 0, 1, 10));
        KernelException e = assertThrows(KernelException.class,
                () -> new JmhCallCosts(StudyDesigns.of(List.of(fake)), JmhCallCosts.Progress.NONE).measure(request));
        assertTrue(e.getMessage().contains("fake-design fentry x1"), e.getMessage());
        assertTrue(e.getMessage().contains("unknown design 'fake-design'"), e.getMessage());
    }

    @Test
    void setupChecksTheCallAndCountsTheRealAttachment() {
        StudyCallBenchmark b = state("global-padding", "fmod_ret", 100_000);
        b.setUp();
        try {
            assertEquals(StudyCallBenchmark.PREFERRED_FUNCTION, b.function());
            assertEquals(fmodRetTargets(), b.attachedCount());
            assertTrue(b.runsChecked(), "the run count is read from the design's attachment");
            assertEquals(2, b.call());
        } finally {
            b.tearDown();
        }
        StudyCallBenchmark bad = state("classic", "kernel-count", 1);
        KernelException e = assertThrows(KernelException.class, bad::setUp);
        assertTrue(e.getMessage().contains("kernel-count"), e.getMessage());
    }

    private static StudyCallBenchmark state(String design, String kind, int attached) {
        StudyCallBenchmark b = new StudyCallBenchmark();
        b.design = design;
        b.kind = kind;
        b.attached = attached;
        b.synthetic = 0;
        b.seed = 1;
        b.match = "";
        b.deny = "";
        return b;
    }

    /** The functions an fmod_ret case can attach: the sample's, with bpf_fentry_test1 if the sample lacks it. */
    private static int fmodRetTargets() {
        KernelImage image = KernelImage.linux618();
        StudyTargets targets = StudyTargets.select(image, null, List.of(), StudyCallBenchmark.SAMPLE_KINDS, 1);
        try (Kernel k = Kernel.boot(image)) {
            List<KernelFunction> sample = targets.first(k, targets.size(), BpfTrampKind.MODIFY_RETURN);
            boolean has = sample.stream().anyMatch(f -> f.name().equals(StudyCallBenchmark.PREFERRED_FUNCTION));
            return sample.size() + (has ? 0 : 1);
        }
    }

    private static void assertKernel(double mcps, CallCost c) {
        assertNotNull(c.kernelRatio(), c.toString());
        assertEquals(mcps / 107.1, c.kernelRatio(), 1e-9, c.toString());
    }

    private static CallCost find(List<CallCost> costs, String design, String kind, int attached) {
        return costs.stream().filter(c -> c.design().equals(design) && c.kind().equals(kind) && c.attached() == attached)
                .findFirst().orElseThrow(() -> new AssertionError("no " + design + " " + kind + " x" + attached
                        + " in " + costs));
    }
}
