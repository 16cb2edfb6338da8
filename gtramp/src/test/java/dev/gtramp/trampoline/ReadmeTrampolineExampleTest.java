package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfProgStats;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's trampoline example, run as written. */
class ReadmeTrampolineExampleTest {
    @Test
    void readmeExampleRuns() throws Exception {
        Kernel kernel = Kernel.boot(KernelImage.linux618());
        Trampolines trampolines = Trampolines.create(kernel, FtraceStrategy.SINGLE_OPS);
        long[] calls = new long[1];
        BpfProg fexit = BpfProg.builder(kernel, "count_ok", BpfAttachType.TRACE_FEXIT_MULTI)
                .body(ctx -> {
                    long[] ret = new long[1];
                    ctx.getFuncRet(ret);
                    calls[0] += ret[0] == 0 ? 0 : ctx.getAttachCookie();
                    return 0;
                })
                .load();
        try (BpfTracingMultiLink link = trampolines.attachMulti(fexit, null, TracingMultiOpts.create()
                .names(List.of("bpf_fentry_test1", "bpf_fentry_test2")).cookies(1, 10));
             Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(2, cpu.call(kernel.function("bpf_fentry_test1"), 1));
            assertEquals(5, cpu.call(kernel.function("bpf_fentry_test2"), 2, 3));
        }
        assertEquals(11, calls[0]);
        assertEquals(new BpfProgStats(2, 0), fexit.stats());
        assertEquals("11 BpfProgStats[runs=2, misses=0]", calls[0] + " " + fexit.stats());
        FentryFexitSelftestTest.assertNothingAttached(trampolines);
        kernel.close();
        String text = Files.readString(Path.of("..", "README.md"));
        assertTrue(text.contains("trampolines.attachMulti(fexit, null, TracingMultiOpts.create()"),
                "README example changed; update this test");
    }
}
