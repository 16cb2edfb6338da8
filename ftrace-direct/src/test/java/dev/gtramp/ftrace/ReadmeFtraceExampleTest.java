package dev.gtramp.ftrace;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's ftrace example, run as written. */
class ReadmeFtraceExampleTest {
    @Test
    void readmeExampleRuns() throws Exception {
        Kernel kernel = Kernel.boot(KernelImage.linux618());
        Ftrace ftrace = Ftrace.of(kernel);
        FtraceOps directOps = FtraceOps.staticDirect("direct_ops", null);
        FtraceHash hash = ftrace.allocHash(2);
        hash.add(kernel.function("bpf_fentry_test1").ip(), frame -> frame.callOrigin() + 100);
        FtraceCosts before = ftrace.costs();
        ftrace.updateFtraceDirectAdd(directOps, hash);
        assertEquals(3 + 4 * 3, ftrace.costs().minus(before).get(Cost.CORE_SYNCS),
                "one batch, plus the ftrace_call updates of the first ops");
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(102, cpu.call(kernel.function("bpf_fentry_test1"), 1));
        }
        ftrace.updateFtraceDirectDel(directOps, hash);
        ftrace.freeHash(hash);
        kernel.close();
        Path readme = Path.of("..", "README.md");
        String text = Files.readString(readme);
        assertTrue(text.contains("ftrace.updateFtraceDirectAdd(directOps, hash);"), "README example changed; update this test");
    }
}
