package dev.gtramp.study;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.study.StudyResult.Row;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.trampoline.Trampolines;
import dev.gtramp.trampoline.TrampolinesConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The study's runner on small sweeps of the Linux 6.18 image, without the per-call measurement. */
class StudyRunnerTest {
    private static final StudyRunner.Listener QUIET = new StudyRunner.Listener() {
    };

    private static StudyOptions options(List<String> designs, List<String> sizes, List<BpfTrampKind> kinds, int repeat) {
        return new StudyOptions(designs, sizes, kinds, null, List.of(), 0, repeat, 7, null, null, false, 0);
    }

    private static StudyResult run(StudyOptions o) {
        return new StudyRunner(StudyDesigns.load(), request -> List.of()).run(o, "test", QUIET);
    }

    @Test
    void everyDesignIsRegisteredUnderTheNamesUsersType() {
        assertEquals(List.of("classic", "single-ops", "tracing-multi", "global-hash", "global-padding"),
                StudyDesigns.load().names());
    }

    @Test
    void countedEventsAreIdenticalAcrossTwoStudiesWithOneSeed() {
        StudyOptions o = options(List.of("classic", "tracing-multi", "global-padding"), List.of("100", "700"),
                List.of(BpfTrampKind.FENTRY, BpfTrampKind.FEXIT), 2);
        StudyResult a = run(o);
        StudyResult b = run(o);
        assertEquals(3 * 2 * 2, a.rows().size());
        for (int i = 0; i < a.rows().size(); i++) {
            Row x = a.rows().get(i);
            Row y = b.rows().get(i);
            String what = x.design() + " " + x.kind() + " " + x.n();
            assertEquals(x.load().events(), y.load().events(), what);
            assertEquals(x.attach().events(), y.attach().events(), what);
            assertEquals(x.detach().events(), y.detach().events(), what);
            assertEquals(x.retained().bytes(), y.retained().bytes(), what);
            assertEquals(x.projected().attachSeconds(), y.projected().attachSeconds(), what);
            assertEquals(2, x.attach().millis().runs(), what);
        }
    }

    @Test
    void rowsCountWhatEachDesignDoes() {
        StudyResult r = run(options(List.of("classic", "single-ops", "tracing-multi", "global-hash", "global-padding"),
                List.of("200"), List.of(BpfTrampKind.FENTRY), 1));
        Map<String, Row> byDesign = new java.util.HashMap<>();
        r.rows().forEach(row -> byDesign.put(row.design(), row));
        Row classic = byDesign.get("classic");
        assertEquals(200, classic.attached());
        assertEquals(200, classic.programs());
        assertEquals(200, classic.links());
        assertEquals(200L, classic.attach().events().get("ftrace.ops_registered"));
        assertEquals(200L, classic.detach().events().get("ftrace.grace_periods_tasks_rude"));
        Row single = byDesign.get("single-ops");
        assertEquals(1L, single.attach().events().get("ftrace.ops_registered"));
        assertEquals(0L, single.detach().events().getOrDefault("ftrace.grace_periods_tasks_rude", 0L));
        Row multi = byDesign.get("tracing-multi");
        assertEquals(1, multi.programs());
        assertEquals(1, multi.links());
        assertEquals(200L, multi.attach().events().get("alloc.bpf_tramp_image"));
        assertEquals(1L, multi.attach().events().get("ftrace.ops_registered"));
        Row hash = byDesign.get("global-hash");
        assertEquals(200L, hash.attach().events().get("alloc.kfunc_md"));
        assertTrue(hash.attach().events().get("alloc.bpf_tramp_image") < 200, "only fallbacks get their own image");
        assertTrue(hash.retained().bytesPerFunction() < multi.retained().bytesPerFunction() / 4,
                "an md is far smaller than a trampoline and its image page");
        Row padding = byDesign.get("global-padding");
        assertTrue(padding.attach().events().get("ftrace.core_syncs") > hash.attach().events().get("ftrace.core_syncs"),
                "every padding poke is synced");
        for (Row row : r.rows()) {
            assertTrue(row.projected().attachSeconds() > 0, row.design());
            assertEquals(row.projected().attachSeconds(),
                    row.projected().attachTerms().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-12);
        }
    }

    @Test
    void aDesignAddedToTheRegistryAppearsInTheStudyUnchanged() {
        StudyDesign base = StudyDesigns.load().select(List.of("tracing-multi")).get(0);
        StudyDesign extra = new StudyDesign() {
            @Override
            public String name() {
                return "tracing-multi-copy";
            }

            @Override
            public String summary() {
                return "a design only this test registers";
            }

            @Override
            public TrampolinesConfig config() {
                return base.config();
            }

            @Override
            public Loaded load(Trampolines t, BpfTrampKind kind, List<KernelFunction> functions) {
                return base.load(t, kind, functions);
            }
        };
        List<StudyDesign> designs = new ArrayList<>(StudyDesigns.load().all());
        designs.add(extra);
        StudyResult r = new StudyRunner(StudyDesigns.of(designs), request -> List.of())
                .run(options(List.of(), List.of("50"), List.of(BpfTrampKind.FENTRY), 1), "test", QUIET);
        assertEquals(6, r.rows().size());
        Row copy = r.rows().get(5);
        assertEquals("tracing-multi-copy", copy.design());
        assertEquals(r.rows().get(2).attach().events(), copy.attach().events());
    }

    @Test
    void everyFinishedRowIsHandedOverBeforeTheStudyEnds() {
        List<Integer> rowsSoFar = new ArrayList<>();
        StudyResult r = new StudyRunner(StudyDesigns.load(), request -> List.of()).run(
                options(List.of("tracing-multi", "global-hash"), List.of("10", "30"), List.of(BpfTrampKind.FENTRY), 1),
                "test", new StudyRunner.Listener() {
                    @Override
                    public void partial(StudyResult soFar) {
                        rowsSoFar.add(soFar.rows().size());
                    }
                });
        assertEquals(List.of(1, 2, 3, 4), rowsSoFar);
        assertEquals(4, r.rows().size());
    }

    @Test
    void aRowOverTheBudgetIsSkippedAndSaysWhy() {
        StudyResult r = run(new StudyOptions(List.of("single-ops"), List.of("100", "3000"), List.of(BpfTrampKind.FENTRY),
                null, List.of(), 0, 1, 1, null, null, false, 1e-6));
        assertTrue(r.rows().isEmpty() || r.rows().stream().noneMatch(row -> row.n() == 3000));
        assertFalse(r.skipped().isEmpty());
        assertTrue(r.skipped().get(0).reason().contains("row budget"), r.skipped().get(0).reason());
    }

    @Test
    void theCallMeasurerIsAskedForTheLargestSizeEachDesignRan() {
        List<StudyRunner.CallRequest> asked = new ArrayList<>();
        new StudyRunner(StudyDesigns.load(), request -> {
            asked.add(request);
            return List.of();
        }).run(new StudyOptions(List.of("global-hash", "tracing-multi"), List.of("20", "all"), List.of(BpfTrampKind.FENTRY),
                "ksys_*", List.of(), 0, 1, 3, StudyOptions.CallSettings.QUICK, null, false, 0), "test", QUIET);
        assertEquals(1, asked.size());
        assertEquals(List.of("global-hash", "tracing-multi"), asked.get(0).designs());
        assertEquals(23, asked.get(0).allAttached().get("global-hash"));
        assertEquals("ksys_*", asked.get(0).match());
    }

    @Test
    void badInputNamesTheCulprit() {
        KernelException design = assertThrows(KernelException.class,
                () -> run(options(List.of("tracing-mutli"), List.of("10"), List.of(BpfTrampKind.FENTRY), 1)));
        assertEquals(Errno.EINVAL, design.errno());
        assertTrue(design.getMessage().contains("unknown design 'tracing-mutli'; known designs: classic, single-ops,"),
                design.getMessage());
        KernelException beyond = assertThrows(KernelException.class,
                () -> run(options(List.of("classic"), List.of("60000"), List.of(BpfTrampKind.FENTRY), 1)));
        assertEquals(Errno.ERANGE, beyond.errno());
        assertTrue(beyond.getMessage().contains("size 60000 exceeds the 52377 attachable functions"), beyond.getMessage());
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class,
                () -> run(options(List.of("classic"), List.of("ten"), List.of(BpfTrampKind.FENTRY), 1))).errno());
        KernelException match = assertThrows(KernelException.class, () -> run(new StudyOptions(List.of("classic"),
                List.of("1"), List.of(BpfTrampKind.FENTRY), "no_such_fn_*", List.of(), 0, 1, 1, null, null, false, 0)));
        assertTrue(match.getMessage().contains("--match no_such_fn_* selects no attachable function"), match.getMessage());
        assertTrue(assertThrows(KernelException.class, () -> Kinds.parse("kprobe")).getMessage()
                .contains("known kinds: fentry, fexit, fmod_ret"));
    }

    @Test
    void aSyntheticImageRunsAtItsOwnScale() {
        StudyResult r = run(new StudyOptions(List.of("global-hash"), List.of("all"), List.of(BpfTrampKind.FENTRY), null,
                List.of(), 20_000, 1, 5, null, null, true, 0));
        assertTrue(r.environment().image().contains("synthetic"), r.environment().image());
        assertTrue(r.published().isEmpty(), "published numbers are for the Linux 6.18 image only");
        assertEquals(r.environment().functions(), r.rows().get(0).attached());
    }
}
