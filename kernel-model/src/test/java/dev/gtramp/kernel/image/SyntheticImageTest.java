package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticImageTest {

    @Test
    void sameSeedSameImageOtherSeedOtherImage() throws IOException {
        byte[] a = ImageSnapshot.encode(KernelImage.synthetic(5_000, 7));
        assertArrayEquals(a, ImageSnapshot.encode(KernelImage.synthetic(5_000, 7)));
        assertFalse(java.util.Arrays.equals(a, ImageSnapshot.encode(KernelImage.synthetic(5_000, 8))));
    }

    @Test
    void argumentRegistersFollowTheRealHistogram() {
        int n = 200_000;
        KernelImage synthetic = KernelImage.synthetic(n, 42);
        assertEquals(n, synthetic.traceable().size());
        Map<Integer, Integer> real = KernelImage.linux618().summary().argRegsHistogram();
        Map<Integer, Integer> got = synthetic.summary().argRegsHistogram();
        long realTotal = real.values().stream().mapToLong(Integer::longValue).sum();
        assertTrue(real.keySet().containsAll(got.keySet()), "no register count the real image lacks");
        for (Map.Entry<Integer, Integer> e : real.entrySet()) {
            double p = (double) e.getValue() / realTotal;
            double expected = p * n;
            // Four binomial standard deviations plus one: fails on a wrong histogram, not on chance.
            double tolerance = 4 * Math.sqrt(n * p * (1 - p)) + 1;
            int actual = got.getOrDefault(e.getKey(), 0);
            assertTrue(Math.abs(actual - expected) <= tolerance,
                    e.getKey() + " registers: " + actual + " vs expected " + expected + " +- " + tolerance);
        }
    }

    @Test
    void aSyntheticKernelRunsAndGlobsSelectByPrefix() {
        KernelImage image = KernelImage.synthetic(10_000, 1);
        assertTrue(image.match("tcp_*").size() > 100);
        assertTrue(image.match("tcp_*").stream().allMatch(f -> f.name().startsWith("tcp_")));
        ImageFunction first = image.functions().get(0);
        assertEquals(16, first.paddingBytes());
        assertEquals(0, first.ip() & 15);
        Kernel kernel = Kernel.boot(image);
        try (Cpu cpu = kernel.bindCpu(0)) {
            var fn = kernel.function(first.name());
            long[] args = new long[fn.argWords()];
            assertEquals(cpu.callWith(fn, args), cpu.callWith(fn, args));
        }
    }

    @Test
    void aMillionFunctionsIsTheLimit() {
        KernelException e = assertThrows(KernelException.class, () -> KernelImage.synthetic(1_000_001, 1));
        assertEquals(Errno.EINVAL, e.errno());
        assertThrows(KernelException.class, () -> KernelImage.synthetic(0, 1));
    }
}
