package reaper

// sysMemfdCreate is memfd_create's number (not in package syscall here).
const sysMemfdCreate = 319
