console.log(5 + 3
