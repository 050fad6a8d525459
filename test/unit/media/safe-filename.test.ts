/** safeFilename: the user's name kept for display, with an extension that matches the sniffed type. */
import { describe, expect, it } from "vitest";
import { safeFilename } from "../../../src/media/sniff";

describe("safeFilename", () => {
  it("keeps a name whose extension already matches, in any case", () => {
    expect(safeFilename("cat.png", "png")).toBe("cat.png");
    expect(safeFilename("CAT.PNG", "png")).toBe("CAT.PNG");
  });

  it("adds the real extension to a name that claims another type", () => {
    expect(safeFilename("setup.exe", "png")).toBe("setup.exe.png");
    expect(safeFilename("notes", "txt")).toBe("notes.txt");
    expect(safeFilename("archive.png.zip", "png")).toBe("archive.png.zip.png");
  });

  it("accepts .jpg and .jpeg alike for JPEG", () => {
    expect(safeFilename("photo.jpeg", "jpg")).toBe("photo.jpeg");
    expect(safeFilename("photo.JPG", "jpg")).toBe("photo.JPG");
    expect(safeFilename("photo.jpe", "jpg")).toBe("photo.jpe.jpg");
  });

  it("replaces path separators and control characters, and trims", () => {
    expect(safeFilename("../../etc/passwd", "txt")).toBe(".._.._etc_passwd.txt");
    expect(safeFilename("a\\b.png", "png")).toBe("a_b.png");
    expect(safeFilename("a\u0000b\u001f\u007f.png", "png")).toBe("a_b__.png");
    expect(safeFilename("  spaced.png  ", "png")).toBe("spaced.png");
  });

  it("names an empty or blank name 'file', and keeps at most 200 characters before the extension it adds", () => {
    expect(safeFilename("", "pdf")).toBe("file.pdf");
    expect(safeFilename("   ", "pdf")).toBe("file.pdf");
    const long = safeFilename("x".repeat(500), "png");
    expect(long).toBe(`${"x".repeat(200)}.png`);
  });
});
