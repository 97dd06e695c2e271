module interop/hijack

go 1.19
