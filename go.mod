module github.com/aemp-go/aemp

go 1.26
