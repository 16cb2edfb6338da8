package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GlobTest {

    @ParameterizedTest(name = "{0} ~ {1} = {2}")
    @CsvSource({
        "ksys_*, ksys_read, true",
        "ksys_*, ksys_, true",
        "ksys_*, __ksys_read, false",
        "bpf_fentry_test?, bpf_fentry_test1, true",
        "bpf_fentry_test?, bpf_fentry_test10, false",
        "bpf_fentry_test*, bpf_fentry_test10, true",
        "*_rcv, ip_rcv, true",
        "*_rcv, ip_rcv_finish, false",
        "*rcv*, tcp_v4_rcv_established, true",
        "a*b*c, abc, true",
        "a*b*c, aXbYbZc, true",
        "a*b*c, aXbYbZ, false",
        "tcp_v[46]_rcv, tcp_v4_rcv, true",
        "tcp_v[46]_rcv, tcp_v5_rcv, false",
        "tcp_v[!46]_rcv, tcp_v5_rcv, true",
        "tcp_v[!46]_rcv, tcp_v4_rcv, false",
        "f[a-c]o, fbo, true",
        "f[a-c]o, fdo, false",
        "f[]x]o, f]o, true",
        "exact, exact, true",
        "exact, exactly, false",
        "*, anything, true",
        "?, ab, false",
    })
    void matchesLikeTheKernelsGlobMatch(String pattern, String name, boolean expected) {
        assertEquals(expected, Glob.compile(pattern).matches(name));
    }

    @Test
    void literalPrefixIsTheTextBeforeTheFirstMetacharacter() {
        assertEquals("ksys_", Glob.compile("ksys_*").literalPrefix());
        assertEquals("", Glob.compile("*_rcv").literalPrefix());
        assertTrue(Glob.compile("vfs_read").isLiteral());
        assertFalse(Glob.compile("vfs_rea?").isLiteral());
    }

    @Test
    void emptyBlankOrMalformedPatternsAreEinvalNamingThePattern() {
        for (String bad : new String[] {"", "   "}) {
            KernelException e = assertThrows(KernelException.class, () -> Glob.compile(bad));
            assertEquals(Errno.EINVAL, e.errno());
            assertTrue(e.getMessage().contains("empty function pattern"), e.getMessage());
        }
        KernelException e = assertThrows(KernelException.class, () -> Glob.compile("tcp_[46"));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("tcp_[46") && e.getMessage().contains("unterminated"), e.getMessage());
        assertThrows(KernelException.class, () -> Glob.compile(null));
        assertThrows(KernelException.class, () -> Glob.compile("a b"));
    }
}
