package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The image built from the real Linux 6.18 BTF and kallsyms, and the embedded snapshot of it. The
 * expected counts are the facts measured on that kernel (its data folder's README).
 */
class KernelImageTest {
    private static KernelImage fromFiles;

    @BeforeAll
    static void build() throws IOException {
        fromFiles = KernelImage.fromFiles(SnapshotGenerator.LINUX_618_NAME, RealData.BTF, RealData.KALLSYMS);
    }

    @Test
    void reproducesTheFactsMeasuredOnTheRealKernel() {
        for (KernelImage image : List.of(fromFiles, KernelImage.linux618())) {
            ImageSummary s = image.summary();
            assertEquals(56_331, s.btfFunctions(), image.name());
            assertEquals(1_119, s.btfFunctionsOver6Params());
            assertEquals(18, s.btfFunctionsOver12Params());
            assertEquals(121_787, s.kallsymsTextSymbols());
            assertEquals(57_699, s.kallsymsPaddingLabels());
            assertEquals(64_088, image.sourceCounts().kallsymsFunctions());
            assertEquals(55_234, s.btfAndKallsyms());
            assertEquals(1_088, s.btfAndKallsymsOver6Params());
        }
    }

    @Test
    void embeddedSnapshotIsExactlyWhatTheGeneratorMakesFromTheRealData() throws IOException {
        assertArrayEquals(ImageSnapshot.encode(fromFiles), ImageSnapshot.encode(KernelImage.linux618()),
                "the committed snapshot is stale: regenerate it with bin/gtramp image snapshot");
    }

    @Test
    void everyFunctionGetsADecisionAndTheCountsAddUp() {
        ImageSummary s = fromFiles.summary();
        int total = s.decisions().values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(s.btfFunctions(), total);
        assertEquals(s.btfFunctions() - s.btfAndKallsyms(), s.decisions().get(TraceDecision.NOT_IN_KALLSYMS));
        assertEquals(s.traceable(), s.decisions().get(TraceDecision.TRACEABLE));
        assertEquals(fromFiles.traceable().size(), s.traceable());
        // Between the 48,514 patch sites of the real kernel and the 55,234 BTF functions with an address.
        assertTrue(s.traceable() > 48_514 && s.traceable() < 55_234, "traceable " + s.traceable());
        int histogramTotal = s.argRegsHistogram().values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(s.traceable() - s.traceableBpfUnsupported(), histogramTotal);
    }

    @Test
    void decidesNamedFunctionsByTheirSection() {
        assertEquals(TraceDecision.TRACEABLE, fromFiles.require("bpf_fentry_test1").decision());
        assertEquals(TraceDecision.TRACEABLE, fromFiles.require("tcp_sendmsg").decision());
        assertEquals(TraceDecision.TRACEABLE, fromFiles.require("ksys_read").decision());
        assertEquals(TraceDecision.INIT_TEXT, fromFiles.require("start_kernel").decision());
        assertEquals(TraceDecision.NOINSTR_TEXT, fromFiles.require("exc_page_fault").decision());
        assertEquals(TraceDecision.NOINSTR_TEXT, fromFiles.require("do_syscall_64").decision());
        assertEquals(TraceDecision.NOINSTR_TEXT, fromFiles.require("default_idle").decision(), ".cpuidle.text");
        assertEquals(TraceDecision.BPF_DENIED, fromFiles.require("migrate_disable").decision());
    }

    @Test
    void looksUpByNameAndByIp() {
        ImageFunction f = fromFiles.require("bpf_fentry_test1");
        assertEquals(0xffffffff81f5d2f0L, f.ip());
        assertEquals(16, f.paddingBytes());
        assertEquals(1, f.addressCount());
        assertSame(f, fromFiles.functionAt(0xffffffff81f5d2f0L).orElseThrow());
        assertTrue(fromFiles.functionAt(0xffffffff81f5d2f0L + 1).isEmpty(), "only entry addresses resolve");
        assertTrue(fromFiles.function("no_such_function_anywhere").isEmpty());
        KernelException e = assertThrows(KernelException.class, () -> fromFiles.require("no_such_function_anywhere"));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("no_such_function_anywhere"), e.getMessage());
        long[] ips = fromFiles.addresses();
        assertEquals(55_234, ips.length);
        assertTrue(IntStream.range(1, ips.length).allMatch(i -> Long.compareUnsigned(ips[i - 1], ips[i]) <= 0));
    }

    @Test
    void aliasesShareAnAddressAndResolveToTheFirstInBtfOrder() {
        ImageFunction ept = fromFiles.require("ept_gpte_changed");
        ImageFunction paging = fromFiles.require("paging64_gpte_changed");
        assertEquals(0xffffffff812d7350L, ept.ip());
        assertEquals(ept.ip(), paging.ip());
        List<ImageFunction> at = fromFiles.functionsAt(ept.ip());
        assertEquals(2, at.size());
        assertTrue(at.contains(ept) && at.contains(paging));
        ImageFunction first = ept.index() < paging.index() ? ept : paging;
        assertSame(first, fromFiles.functionAt(ept.ip()).orElseThrow());
        long distinct = java.util.Arrays.stream(fromFiles.addresses()).distinct().count();
        assertEquals(fromFiles.addresses().length - distinct, fromFiles.aliasCount());
        assertEquals(fromFiles.aliasCount(), fromFiles.summary().aliases());
        assertTrue(fromFiles.aliasCount() > 0);
    }

    @Test
    void globsSelectTraceableFunctionsSortedByName() {
        List<String> q = names(fromFiles.match("bpf_fentry_test?"));
        assertEquals(List.of("bpf_fentry_test1", "bpf_fentry_test2", "bpf_fentry_test3", "bpf_fentry_test4",
                "bpf_fentry_test5", "bpf_fentry_test6", "bpf_fentry_test7", "bpf_fentry_test8", "bpf_fentry_test9"), q);
        List<String> star = names(fromFiles.match("bpf_fentry_test*"));
        assertEquals(11, star.size(), star.toString());
        assertTrue(star.contains("bpf_fentry_test10") && star.contains("bpf_fentry_test_sinfo"));
        assertEquals(10, fromFiles.match("bpf_fentry_test*", List.of("*_sinfo")).size());
        assertEquals(List.of("bpf_fentry_test1", "bpf_fentry_test2"),
                names(fromFiles.match("bpf_fentry_test[12]")));

        List<ImageFunction> ksys = fromFiles.match("ksys_*");
        assertFalse(ksys.isEmpty());
        assertTrue(ksys.stream().allMatch(f -> f.name().startsWith("ksys_") && f.isTraceable()));
        long expected = fromFiles.traceable().stream().filter(f -> f.name().startsWith("ksys_")).count();
        assertEquals(expected, ksys.size());
        assertTrue(fromFiles.match("no_such_prefix_*").isEmpty());
        // A pattern without a literal prefix scans everything and agrees with a plain filter.
        long rcv = fromFiles.traceable().stream().filter(f -> f.name().endsWith("_rcv")).count();
        assertEquals(rcv, fromFiles.match("*_rcv").size());
    }

    @Test
    void emptyPatternIsEinval() {
        KernelException e = assertThrows(KernelException.class, () -> fromFiles.match(""));
        assertEquals(Errno.EINVAL, e.errno());
    }

    private static List<String> names(List<ImageFunction> fs) {
        return fs.stream().map(ImageFunction::name).toList();
    }
}
