"""A small OpenAPI file in the shape of the XAPI spec, with one of each thing the generator handles,
and an "older build" of it for the drift tests."""

from __future__ import annotations

CURRENT = """
openapi: 3.0.4
info: {title: XAPI, version: 1.0.0}
paths:
  /Widgets:
    get:
      tags: [Widgets]
      summary: Get entities from Widgets
      operationId: ListWidget
      parameters:
        - $ref: '#/components/parameters/top'
        - $ref: '#/components/parameters/skip'
        - $ref: '#/components/parameters/filter'
        - $ref: '#/components/parameters/count'
        - {name: $select, in: query, explode: false, schema: {type: array, items: {type: string}}}
      responses:
        '200': {$ref: '#/components/responses/Pbx.WidgetCollectionResponse'}
    post:
      tags: [Widgets]
      summary: Add new entity to Widgets
      operationId: CreateWidget
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.Widget'}}}
      responses:
        '201':
          description: Created entity
          content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.Widget'}}}
      x-ms-docs-operation-type: operation
  '/Widgets({Id})':
    get:
      tags: [Widgets]
      summary: Get entity from Widgets by key
      operationId: GetWidget
      parameters:
        - &widget_id {name: Id, in: path, required: true, schema: {type: integer, format: int32},
            x-ms-docs-key-type: Widget}
      responses:
        '200':
          description: Retrieved entity
          content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.Widget'}}}
      x-ms-docs-operation-type: operation
    patch:
      tags: [Widgets]
      summary: Update entity in Widgets
      operationId: UpdateWidget
      parameters:
        - *widget_id
      requestBody:
        content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.Widget'}}}
      responses: {'204': {description: Success}}
      x-ms-docs-operation-type: operation
    delete:
      tags: [Widgets]
      summary: Delete entity from Widgets
      operationId: DeleteWidget
      parameters:
        - *widget_id
        - {name: If-Match, in: header, description: ETag, schema: {type: string}}
      responses: {'204': {description: Success}}
      x-ms-docs-operation-type: operation
  '/Widgets(Number={Number})':
    get:
      tags: [Widgets]
      summary: Get entity from Widgets by key (Number)
      operationId: GetWidgetByNumber
      parameters:
        - {name: Number, in: path, required: true, schema: {type: string, nullable: true},
            x-ms-docs-key-type: Widget}
      responses:
        '200':
          description: Retrieved entity
          content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.Widget'}}}
      x-ms-docs-operation-type: operation
  '/Widgets({Id})/Parts':
    get:
      tags: [Widgets]
      summary: Get Parts from Widgets
      operationId: ListParts
      parameters:
        - *widget_id
        - $ref: '#/components/parameters/top'
        - $ref: '#/components/parameters/skip'
      responses:
        '200': {$ref: '#/components/responses/Pbx.PartCollectionResponse'}
      x-ms-docs-operation-type: operation
  '/Widgets/Pbx.GetWidgetReport(periodFrom={periodFrom},queueDns={queueDns},hideInternal={hideInternal})':
    get:
      tags: [Widgets]
      summary: Invoke function GetWidgetReport
      operationId: GetWidgetReport
      parameters:
        - {name: periodFrom, in: path, required: true, schema: {type: string, format: date-time}}
        - {name: queueDns, in: path, required: true, schema: {type: string, nullable: true}}
        - {name: hideInternal, in: path, required: true, schema: {type: boolean, default: false}}
        - $ref: '#/components/parameters/top'
        - $ref: '#/components/parameters/skip'
      responses:
        '200':
          description: Success
          content:
            application/json:
              schema:
                title: Collection of Part
                type: object
                allOf:
                  - $ref: '#/components/schemas/BaseCollectionPaginationCountResponse'
                  - type: object
                    properties: {value: {type: array, items: {$ref: '#/components/schemas/Pbx.Part'}}}
      x-ms-docs-operation-type: function
  '/Widgets/Pbx.DownloadWidgetReport(periodFrom={periodFrom})':
    get:
      tags: [Widgets]
      summary: Invoke function DownloadWidgetReport
      operationId: DownloadWidgetReport
      parameters:
        - {name: periodFrom, in: path, required: true, schema: {type: string, format: date-time}}
      responses:
        '200':
          description: Success
          content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.IActionResult'}}}
      x-ms-docs-operation-type: function
  '/Widgets({Id})/Pbx.HasParts()':
    get:
      tags: [Widgets]
      summary: Invoke function HasParts
      operationId: HasParts
      parameters:
        - *widget_id
      responses:
        '200':
          description: Success
          content:
            application/json: {schema: {type: object, properties: {value: {type: boolean, default: false}}}}
      x-ms-docs-operation-type: function
  /Widgets/Pbx.Ring:
    post:
      tags: [Widgets]
      summary: Invoke action Ring
      operationId: Ring
      requestBody:
        required: true
        content:
          application/json:
            schema:
              title: WidgetsRingRequestBody
              type: object
              properties:
                destination: {type: string}
                dn: {type: string, nullable: true}
                testCall: {type: boolean, default: false, nullable: true}
      responses: {'204': {description: Success}}
      x-ms-docs-operation-type: action
  /Gadgets:
    get:
      tags: [Gadgets]
      summary: Get Gadgets
      operationId: GetGadgets
      responses:
        '200':
          description: Retrieved entity
          content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.Gadgets'}}}
      x-ms-docs-operation-type: operation
  /PurgeGadgets:
    post:
      tags: [Gadgets]
      summary: Invoke actionImport PurgeGadgets
      operationId: PurgeGadgets
      responses: {'204': {description: Success}}
      x-ms-docs-operation-type: actionImport
components:
  schemas:
    Pbx.Base:
      title: Base
      type: object
      properties:
        Id: {type: integer, format: int32}
        Number: {type: string, nullable: true}
    Pbx.Widget:
      allOf:
        - $ref: '#/components/schemas/Pbx.Base'
        - title: Widget
          type: object
          properties:
            Name: {type: string, nullable: true}
            Kind:
              allOf: [{$ref: '#/components/schemas/Pbx.AuthenticationType'}]
              nullable: true
            RingTime: {type: string, format: duration, nullable: true}
            CreatedAt: {type: string, format: date-time, nullable: true}
            License:
              allOf: [{$ref: '#/components/schemas/Pbx.License'}]
              nullable: true
            Parts:
              type: array
              items: {$ref: '#/components/schemas/Pbx.Part'}
              x-ms-navigationProperty: true
            AuthPassword: {type: string, nullable: true}
            AllowChangePassword: {type: boolean, nullable: true}
    Pbx.Part:
      title: Part
      type: object
      properties:
        Id: {type: integer, format: int32}
        Widget:
          allOf: [{$ref: '#/components/schemas/Pbx.Widget'}]
          nullable: true
    Pbx.License:
      title: License
      type: object
      properties:
        Key: {type: string, nullable: true}
        MaxSimCalls: {type: integer, format: int32, nullable: true}
    Pbx.Gadgets:
      title: Gadgets
      type: object
      properties:
        Enabled: {type: boolean, nullable: true}
    Pbx.AuthenticationType:
      title: AuthenticationType
      enum: [No, Basic, 3CX, None]
      type: string
    Pbx.IActionResult: {title: IActionResult, type: object}
    BaseCollectionPaginationCountResponse:
      title: Base collection pagination and count responses
      type: object
      properties:
        '@odata.count': {type: integer, format: int64, nullable: true}
    Pbx.WidgetCollectionResponse:
      title: Collection of Widget
      type: object
      allOf:
        - $ref: '#/components/schemas/BaseCollectionPaginationCountResponse'
        - type: object
          properties: {value: {type: array, items: {$ref: '#/components/schemas/Pbx.Widget'}}}
    Pbx.PartCollectionResponse:
      title: Collection of Part
      type: object
      allOf:
        - $ref: '#/components/schemas/BaseCollectionPaginationCountResponse'
        - type: object
          properties: {value: {type: array, items: {$ref: '#/components/schemas/Pbx.Part'}}}
  responses:
    Pbx.WidgetCollectionResponse:
      description: Retrieved collection
      content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.WidgetCollectionResponse'}}}
    Pbx.PartCollectionResponse:
      description: Retrieved collection
      content: {application/json: {schema: {$ref: '#/components/schemas/Pbx.PartCollectionResponse'}}}
  parameters:
    top: {name: $top, in: query, explode: false, schema: {type: integer, format: int64, minimum: 0}}
    skip: {name: $skip, in: query, explode: false, schema: {type: integer, format: int64, minimum: 0}}
    count: {name: $count, in: query, explode: false, schema: {type: boolean}}
    filter: {name: $filter, in: query, explode: false, schema: {type: string}}
"""

# The same API as an older build had it: widgets by number through a function, the report's
# first argument under another name and type, Ring without testCall, a license as plain text,
# and no Gadgets at all.
LEGACY = (
    CURRENT.replace(
        """  '/Widgets(Number={Number})':
    get:
      tags: [Widgets]
      summary: Get entity from Widgets by key (Number)
      operationId: GetWidgetByNumber
      parameters:
        - {name: Number, in: path, required: true, schema: {type: string, nullable: true},
            x-ms-docs-key-type: Widget}""",
        """  '/Widgets/Pbx.GetByNumber(number={number})':
    get:
      tags: [Widgets]
      summary: Invoke function GetByNumber
      operationId: GetByNumber
      parameters:
        - {name: number, in: path, required: true, schema: {type: string, nullable: true}}""",
    )
    .replace(
        "/Widgets/Pbx.GetWidgetReport(periodFrom={periodFrom},",
        "/Widgets/Pbx.GetWidgetReport(startDt={startDt},",
    )
    .replace(
        "- {name: periodFrom, in: path, required: true, schema: {type: string, format: date-time}}\n"
        "        - {name: queueDns",
        "- {name: startDt, in: path, required: true, schema: {type: string, format: date-time}}\n"
        "        - {name: queueDns",
    )
    .replace("                testCall: {type: boolean, default: false, nullable: true}\n", "")
    .replace(
        """            License:
              allOf: [{$ref: '#/components/schemas/Pbx.License'}]
              nullable: true""",
        """            License: {type: string, nullable: true}""",
    )
)
LEGACY = LEGACY[: LEGACY.index("  /Gadgets:")] + LEGACY[LEGACY.index("components:") :]
