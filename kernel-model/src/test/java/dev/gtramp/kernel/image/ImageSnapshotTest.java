package dev.gtramp.kernel.image;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import org.junit.jupiter.api.Test;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageSnapshotTest {

    @Test
    void roundTripsAnImage() throws IOException {
        KernelImage image = KernelImage.synthetic(3_000, 3);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageSnapshot.write(image, out);
        KernelImage back = ImageSnapshot.read(new ByteArrayInputStream(out.toByteArray()));
        assertEquals(image.name(), back.name());
        assertEquals(image.functions(), back.functions());
        assertArrayEquals(ImageSnapshot.encode(image), ImageSnapshot.encode(back));
    }

    @Test
    void rejectsCorruptOrForeignInput() throws IOException {
        byte[] good = ImageSnapshot.encode(KernelImage.synthetic(100, 1));

        KernelException e = assertThrows(KernelException.class, () -> read(Arrays.copyOf(good, good.length / 2)));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());

        byte[] badMagic = good.clone();
        badMagic[0] = 'X';
        e = assertThrows(KernelException.class, () -> read(badMagic));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());

        byte[] badVersion = good.clone();
        badVersion[5] = 9;
        e = assertThrows(KernelException.class, () -> read(badVersion));
        assertTrue(e.getMessage().contains("version 9"), e.getMessage());

        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        e = assertThrows(KernelException.class, () -> read(trailing));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    }

    private static KernelImage read(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (XZOutputStream xz = new XZOutputStream(out, new LZMA2Options())) {
            xz.write(raw);
        }
        return ImageSnapshot.read(new ByteArrayInputStream(out.toByteArray()));
    }
}
