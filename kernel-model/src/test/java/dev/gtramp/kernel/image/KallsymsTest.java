package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KallsymsTest {

    private static Kallsyms parse(String text) throws IOException {
        return Kallsyms.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void splitsPaddingLabelsFromFunctionsAndKeepsTheFirstAddressOfADuplicateName() throws IOException {
        Kallsyms ks = parse("""
                ffffffff81000000 T _stext
                ffffffff81001000 t __pfx_foo
                ffffffff81001010 t foo
                ffffffff81002000 T __pfx_bar
                ffffffff81002010 T bar
                ffffffff81003010 t foo
                ffffffff82000000 D some_data
                ffffffffc0001000 t mod_fn\t[some_module]
                """);
        assertEquals(6, ks.textSymbols());
        assertEquals(2, ks.paddingLabels());
        assertEquals(4, ks.functions().size(), "_stext, foo, bar and the second foo");
        assertEquals(2, ks.skippedLines(), "the data symbol and the module symbol");
        assertEquals(List.of(0xffffffff81001010L, 0xffffffff81003010L), ks.addresses("foo"));
        assertEquals(0xffffffff81001010L, ks.lookupName("foo").orElseThrow());
        assertEquals(16, ks.paddingBefore(0xffffffff81001010L, "foo"));
        assertEquals(0, ks.paddingBefore(0xffffffff81003010L, "foo"), "no __pfx_ label before the second foo");
        assertEquals(16, ks.paddingBefore(0xffffffff81002010L, "bar"));
        assertTrue(ks.lookupName("mod_fn").isEmpty());
    }

    @Test
    void malformedLinesAreEinvalNamingTheLine() {
        KernelException e = assertThrows(KernelException.class,
                () -> parse("ffffffff81000000 T ok\nzzzz T bad_address\n"));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("hexadecimal"), e.getMessage());

        e = assertThrows(KernelException.class, () -> parse("ffffffff81000000 T\n"));
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());

        e = assertThrows(KernelException.class, () -> parse("ffffffff81000000 TT name\n"));
        assertTrue(e.getMessage().contains("ADDRESS TYPE NAME"), e.getMessage());
    }
}
