// Hand bytes to the browser as a file download.
export function download(bytes: Uint8Array | Blob, name: string): void {
  const blob = bytes instanceof Blob ? bytes : new Blob([bytes as BlobPart], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // Chromium reads the blob when the download starts; give it a moment before freeing it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
